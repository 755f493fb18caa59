/* The team device's side of the buzz clock (docs/stage.md): NTP-style exchanges over the
 * socket, a few quickly at connect and then one every two seconds. The server keeps the
 * estimate; the device only reports when it sent (t0) and received (t3), on its own clock,
 * and stamps each tap with the same clock. */
(function () {
  "use strict";

  function now() { return (performance.timeOrigin + performance.now()) / 1000; }

  function StageClock(socket) {
    this.socket = socket;
    this.last = null;
    this.offset = 0; // server minus device, from the lowest-delay exchange seen (for countdowns)
    this.bestRtt = Infinity;
    this.timer = null;
  }

  StageClock.prototype.exchange = function () {
    var self = this, t0 = now(), payload = { t0: t0 };
    if (this.last) payload.last = this.last;
    this.socket.timeout(5000).emit("clock", payload, function (err, ack) {
      if (err || !ack || !ack.ok) return;
      var t3 = now();
      self.last = { t0: t0, t3: t3 };
      var rtt = (t3 - t0) - (ack.t2 - ack.t1);
      if (rtt < self.bestRtt) {
        self.bestRtt = rtt;
        self.offset = ((ack.t1 - t0) + (ack.t2 - t3)) / 2;
      }
    });
  };

  StageClock.prototype.start = function () {
    var self = this, quick = 0;
    this.stop();
    this.last = null;
    var tick = function () {
      self.exchange();
      quick += 1;
      self.timer = setTimeout(tick, quick < 6 ? 250 : 2000);
    };
    tick();
  };

  StageClock.prototype.stop = function () { clearTimeout(this.timer); };
  StageClock.prototype.serverNow = function () { return now() + this.offset; };
  StageClock.now = now;

  window.StageClock = StageClock;
})();
