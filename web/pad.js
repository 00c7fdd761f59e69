// The drawing pad: a canvas drawn on with a mouse, a pen or a finger, one round pen, black
// on white. It only draws and tells: ``onStart`` before a stroke's first dot, ``onDraw`` after
// each move, ``onEnd`` when the pen lifts.

const PEN = 18;   // canvas pixels; the recipe measures the stroke, so this only sets the look

export class Pad {
  constructor(canvas, { onStart, onDraw, onEnd }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.drawing = false;
    this.last = null;
    Object.assign(this, { onStart, onDraw, onEnd });
    this.blank();
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(name, () => this.up());
    }
  }

  blank() {
    const ctx = this.ctx;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.strokeStyle = ctx.fillStyle = "#000";
    ctx.lineWidth = PEN;
    ctx.lineCap = ctx.lineJoin = "round";
  }

  // The pad's pixels (RGBA), for the recipe.
  pixels() {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  // Stop a stroke in progress without telling (Clear, a value from the server).
  stop() {
    this.drawing = false;
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * this.canvas.width / r.width, (e.clientY - r.top) * this.canvas.height / r.height];
  }

  down(e) {
    e.preventDefault();
    try {
      this.canvas.setPointerCapture(e.pointerId);   // keep the stroke when the pen leaves the pad
    } catch {
      // a pointer the browser no longer tracks: draw without capture
    }
    this.onStart();
    this.drawing = true;
    this.last = this.point(e);
    this.ctx.beginPath();
    this.ctx.arc(this.last[0], this.last[1], PEN / 2, 0, 2 * Math.PI);
    this.ctx.fill();
    this.onDraw();
  }

  move(e) {
    if (!this.drawing) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    const ctx = this.ctx;
    ctx.beginPath();
    ctx.moveTo(this.last[0], this.last[1]);
    for (const ev of events.length ? events : [e]) {
      this.last = this.point(ev);
      ctx.lineTo(this.last[0], this.last[1]);
    }
    ctx.stroke();
    this.onDraw();
  }

  up() {
    if (!this.drawing) return;
    this.drawing = false;
    this.onEnd();
  }
}
