"""The on-stage branch contest (现场知识竞赛): teams at desks, a referee, a big screen.

`engine` is the pure fold over the event log (rounds, turns, buzzers, rulings, scores);
`clock` estimates each device's clock and orders buzzes by the tap, not by arrival.
"""
