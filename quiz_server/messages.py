"""The one catalogue of UI strings the pages' JavaScript shows, and the Chinese text of every
refusal reason (the live layer builds an ack's `message` from `REFUSALS`).

Static page text lives in the templates; anything a script composes at run time lives here,
so a later locale (繁體) is one more catalogue, not a hunt through JS files.
Placeholders are `{name}`; the pages fill them with a tiny formatter.
"""

from __future__ import annotations

REFUSALS: dict[str, str] = {
    # Answer and join refusals named in docs/live-protocol.md.
    "not_joined": "尚未加入竞赛，请先加入",
    "kicked": "您已被主持人移出本场竞答",
    "seat_released": "组织者已为您释放席位，本设备已退出；请在新设备上用名单中的姓名和党员编号重新加入",
    "not_open": "本题尚未开始作答",
    "too_late": "已超过作答时间，本题不计分",
    "already_answered": "本题已作答，答案不能更改",
    "no_such_option": "选项无效，请重新选择",
    "bad_request": "请求无效，请刷新页面后重试",
    "wrong_phase": "当前环节不能进行此操作",
    "no_such_contest": "竞赛码不存在，请核对后重新输入",
    "no_such_branch": "请选择所在的党支部",
    "name_required": "请填写姓名",
    "not_on_roster": "参赛名单中没有找到您，请核对姓名和党员编号",
    "already_joined": "该名单成员已在另一台设备参赛，如需更换设备请联系组织者",
    "contest_over": "本场竞答已结束",
    # Reasons the protocol does not list yet but a server may need (session, host, limits).
    "name_too_long": "姓名不能超过 20 个字",
    "unknown_token": "参赛记录已失效，请重新加入",
    "not_releasable": "只有名单内、未被移出的成员席位可以释放",
    "forbidden": "您没有操作本场竞赛的权限",
    "rate_limited": "操作太频繁，请稍后再试",
    "roster_rate_limited": "核对名单的次数过多，请 1 分钟后再试",
    "server_error": "服务器繁忙，请稍后重试",
    # A passing shortage (no free database connection, a batch that failed to commit, the
    # database briefly away): nothing was stored unless a retry says so; the ack has retry: true.
    "busy": "服务器繁忙，请稍后重试",
    "gone": "连接已断开，请重新加入",  # a join whose socket closed: nobody reads it
    "too_large": "提交的内容太大（上限 {limit} MB），请拆分后分别上传",
    # The stage contest (现场竞赛): team devices and the referee console.
    "stage_wrong_step": "当前环节不能进行此操作",
    "stage_not_your_turn": "现在不是本队作答",
    "stage_locked_out": "本队已犯规，本题不能再抢答",
    "stage_already_buzzed": "本队已抢答",
    "stage_no_such_team": "队伍码不正确，请向工作人员核对",
    "stage_bad_value": "数值或理由无效，请检查后重试",
    "stage_nothing_to_undo": "没有可以撤销的操作",
}

_COMMON: dict[str, str] = {
    "status_connecting": "连接中…",
    "status_connected": "已连接",
    "status_disconnected": "网络断开，正在重连…",
    "progress": "第 {n}/{total} 题",
    "seconds": "{s} 秒",
    "paused": "已暂停",
    "time_up": "时间到",
    "points": "{points} 分",
    "refusal_fallback": "操作未成功，请重试",
    "time_credit": "因网络中断，本题延长 {s} 秒",
    "tied": "并列",
    "tied_rank": "并列第 {rank} 名",
    # the join form's branch picker (static/js/branches.js), live and campaign alike
    "branch_required": REFUSALS["no_such_branch"],
    "no_parent": "其他",
    "branch_found": "找到 {n} 个党支部",
    "branch_none_found": "没有找到，请换个关键词",
}

_PLAY: dict[str, str] = {
    "pin_required": "请输入竞赛码",
    "contest_not_found": "未找到该竞赛，请核对竞赛码",
    "contest_loading": "正在查找竞赛…",
    "contest_closed": "本场竞答已结束，不能再加入",
    "name_too_long": REFUSALS["name_too_long"],
    "member_no_required": "请填写党员编号",
    "network_error": "网络不畅，请稍后重试",
    "joining": "正在加入…",
    "join": "加入竞答",
    "submitting": "提交中…",
    "submitted": "已提交，等待揭晓",
    "retrying": "网络不稳，正在重新提交…",
    "busy_retrying": "服务器繁忙，答案已保存，正在自动重新提交…",
    "join_retrying": "服务器繁忙，正在自动重试加入…",
    "offline_pending": "网络断开，答案已保存，恢复后自动提交",
    "answer_lost": "网络中断，本题答案未送达，不计分",
    "answer_late_check": "网络恢复，正在确认上一题答案…",
    "answer_delivered_late": "网络恢复，上一题答案已送达",
    "not_answered": "本题未作答",
    "correct": "回答正确",
    "wrong": "回答错误",
    "earned": "+{points} 分",
    "correct_answer": "正确答案",
    "source": "出处：{source}",
    "multiple_hint": "多选题：可选多项，选好后点“提交”",
    "chosen_count": "已选 {n} 项",
    "submit": "提交",
    "time_up_wait": "时间到，等待揭晓",
    "standing_loading": "正在计算名次…",
    "standing_failed": "名次暂时无法获取，稍后会自动更新",
    "rank": "第 {rank} 名",
    "rank_of": "共 {of} 人参赛",
    "correct_count": "答对 {correct} 题",
    "branch_rank": "{name}：支部排名第 {rank} 名（共 {of} 个）",
    "branch_rank_tied": "{name}：支部排名并列第 {rank} 名（共 {of} 个）",
    "session_ended": REFUSALS["unknown_token"],
    "your_choice": "您的选择",
}

_HOST: dict[str, str] = {
    "answered": "已作答 {answered} / {participants}",
    "joined_total": "已加入 {total} 人",
    "people": "{n} 人",
    "start": "开始",
    "next": "下一步",
    "extend": "延长 10 秒",
    "end": "结束",
    "confirm_end": "再按一次确认结束",
    "control_failed": "操作失败：{message}",
    "watch_failed": "无法打开大屏：{message}",
    "login_required": "登录已失效，请刷新页面并重新登录组织者账号",
    "no_branches_joined": "等待参赛者扫码加入…",
    "participation": "参与率 {rate}%",
    "accuracy": "正确率 {rate}%",
    "correct_answer": "正确答案",
    "source": "出处：{source}",
    "member_top": "个人前十",
    "branch_standings": "支部排名",
    "judge_true": "正确",
    "judge_false": "错误",
    "fullscreen": "全屏",
    "exit_fullscreen": "退出全屏",
    "finished_members": "个人前三名",
    "finished_branches": "支部前三名",
    "nobody": "暂无",
}

# The stage contest's three screens (team device, big screen, referee console).
_STAGE: dict[str, str] = {
    "step_lobby": "等待开始",
    "step_picking": "选择分值",
    "step_ready": "准备计时",
    "step_shown": "主持人读题",
    "step_open": "开始抢答",
    "step_answering": "作答中",
    "step_speed": "限时速答进行中",
    "step_ruled": "本题结束",
    "step_finished": "比赛结束",
    "outcome_right": "答对",
    "outcome_wrong": "答错",
    "outcome_timeout": "超时",
    "outcome_foul": "犯规",
    "outcome_adjust": "评委调分",
    "outcome_none": "无人抢答",
    "buzz": "抢答",
    "buzz_wait": "请等主持人宣布开始（提前按键犯规）",
    "buzz_sent": "已抢答，等待裁判确认",
    "buzz_foul": "提前抢答，本题犯规",
    "buzz_won": "本队获得答题权",
    "your_turn": "请本队作答",
    "your_pick": "请选择本题分值",
    "other_turn": "{team} 作答中",
    "winner": "{team} 抢答成功",
    "fouls": "犯规：{teams}",
    "points_of": "{points} 分",
    "desk": "{desk} 号台",
    "round_of": "第 {n}/{total} 轮",
    "slot_of": "第 {n}/{total} 题",
    "seat": "{seat} 号队员 {name}",
    "speed_count": "已答 {done} 题，答对 {right} 题",
    "audience_rate": "现场观众正确率 {rate}%（{answered} 人作答）",
    "audience_none": "现场观众作答中",
    "tie": "同时抢答：相差 {gap} 毫秒，在误差范围内，请裁判裁定",
    "gap": "领先 {gap} 毫秒",
    "after_open": "开放后 {ms} 毫秒（误差 ±{u} 毫秒）",
    "award": "判给 {team}",
    "team_pin": "队伍码",
    "team_qr": "二维码",
    "join_team": "加入",
    "joined_as": "{team}",
    "correct_answer": "正确答案：{answer}",
    "podium": "最终排名",
    "no_question": "",
    "confirm_undo": "撤销上一步操作？",
}

_PAGES: dict[str, dict[str, str]] = {"play": _PLAY, "host": _HOST, "stage": _STAGE}


def strings_for(page: str) -> dict[str, object]:
    """The strings a page's script needs, rendered into the page as JSON (`#strings`)."""
    if page not in _PAGES:
        raise KeyError(f"no strings for page {page!r}; expected one of {', '.join(_PAGES)}")
    return {**_COMMON, **_PAGES[page], "refusals": dict(REFUSALS)}


def refusal_message(reason: str) -> str:
    """The Chinese text for a refusal reason (a generic line for a reason not catalogued)."""
    return REFUSALS.get(reason, _COMMON["refusal_fallback"])


# ---------------------------------------------------------------- organizer console (admin)
# Refusals the control page's actions can meet, and the strings of its script.

REFUSALS.update(
    {
        "paused": "竞答已暂停，请等待主持人继续",
        "no_such_participant": "没有找到该参赛者",
    }
)

ADMIN_CONTROL: dict[str, str] = {
    "start": "开始竞答",
    "next": "下一步",
    "pause": "暂停",
    "resume": "继续",
    "skip": "立即截止本题",
    "extend": "延长 {s} 秒",
    "end": "结束竞答",
    "confirm_end": "确定结束本场竞答吗？结束后不能恢复。",
    "confirm_kick": "确定将“{name}”移出本场竞答吗？该成员将不能以原身份重新进入。",
    "kick": "移出",
    "kicked": "已移出",
    "release": "释放席位",
    "released": "已释放，待重新加入",
    "confirm_release": "确定释放“{name}”的席位吗？其原设备将退出；该成员用名单中的姓名和党员编号重新加入后，保留已有答题和得分。",
    "control_failed": "操作失败：{message}",
    "watch_failed": "无法连接控制台：{message}",
    "login_required": "登录已失效，请刷新页面并重新登录组织者账号",
    "no_members": "暂无成员加入",
    "members": "{n} 人",
    "score": "{score} 分",
    "phase_lobby": "等待开始",
    "phase_question": "答题中",
    "phase_reveal": "揭晓答案",
    "phase_leaderboard": "排行榜",
    "phase_finished": "已结束",
    "paused": "已暂停",
    "progress": "第 {n}/{total} 题",
    "answered": "已作答 {answered} / {participants}",
    "remaining": "剩余 {s} 秒",
    "time_up": "时间到",
    "status_connecting": "连接中…",
    "status_connected": "已连接",
    "status_disconnected": "网络断开，正在重连…",
}
_PAGES["admin-control"] = ADMIN_CONTROL

# ---------------------------------------------------------------- campaign contests (网络竞答)
# Refusals of the campaign HTTP API and the strings of static/js/campaign.js and rankings.js.

CAMPAIGN_REFUSALS: dict[str, str] = {
    "campaign_mode": "这是网络竞答活动，请打开活动链接按提示自行作答",
    "stage_mode": "这是现场竞赛的编号，不能在此加入：参赛队请用队伍设备，现场观众请使用组织者公布的观众竞答编号",
    "campaign_not_started": "活动尚未开始",
    "campaign_ended": "活动已结束",
    "between_stages": "当前不在任何阶段的作答时间内",
    "day_limit": "今天的作答次数已用完，明天再来",
    "stage_limit": "本阶段的作答次数已用完",
    "total_limit": "全部作答次数已用完",
    "draw_failed": "题库无法满足抽题规则，请联系组织者",
    "no_such_attempt": "没有找到这次作答",
    "attempt_open": "本次作答尚未结束",
    "practice_closed": "题目可能出现在进行中的竞赛里，竞赛结束后开放练习",
    "practice_held": "这道题仍可能出现在进行中的竞赛里，竞赛结束后才能练习",
}
REFUSALS.update(CAMPAIGN_REFUSALS)

_CAMPAIGN: dict[str, str] = {
    "network_error": "网络不畅，正在重试…",
    "joining": "正在加入…",
    "left_today": "今日还可作答 {n} 次",
    "left_unlimited": "今日作答次数不限",
    "left_total": "共还可作答 {n} 次",
    "start": "开始作答",
    "continue": "继续作答（已答 {n}/{total} 题）",
    "continued_here": "已在本设备继续之前未完成的作答",
    "progress": "第 {n}/{total} 题",
    "remaining": "剩余 {time}",
    "submit": "交卷",
    "confirm_submit": "还有 {n} 题未答，再按一次交卷",
    "next": "下一题",
    "prev": "上一题",
    "saving": "保存中…",
    "saved": "已保存",
    "retrying": "网络不稳，正在重新提交…",
    "time_up": "时间到，已自动交卷",
    "hidden_warning": "离开答题页面 {n} 次已记录",
    "hidden_submitted": "离开页面次数过多，已按当前作答交卷",
    "score": "{score} / {full} 分",
    "time_used": "用时 {time}",
    "correct_count": "{correct}/{total} 题",
    "rank": "第 {rank} 名 / 共 {of} 人",
    "branch_rank": "第 {rank} 名 / 共 {of} 个支部",
    "review_later": "答案与解析将在活动结束（{when}）后公布",
    "review_held": "另有 {n} 道题仍可能出现在进行中的竞赛里，其答案与解析在竞赛结束后公布",
    "your_choice": "您的选择",
    "correct_answer": "正确答案",
    "answer_line": "正确答案：{answer}",
    "not_answered": "未作答",
    "right": "回答正确",
    "wrong": "回答错误",
    "source": "出处：{source}",
    "practice_check": "核对答案",
    "practice_next": "换一题",
    "practice_empty": "该分类暂无题目",
    "multiple_hint": "多选题：可选多项",
    "minutes_seconds": "{m} 分 {s} 秒",
    "seconds_only": "{s} 秒",
    "history_item": "第 {n} 次：{score} 分，用时 {time}",
    "closed_by_deadline": "（超时自动交卷）",
    "closed_by_hidden": "（离开页面过多自动交卷）",
}

_RANKINGS: dict[str, str] = {
    "updated": "更新于 {time}",
    "stale": "网络不畅，显示的是 {time} 的数据",
}

_PAGES["campaign"] = _CAMPAIGN
_PAGES["rankings"] = _RANKINGS
