// A drawing pad that sends what is drawn while the pen moves, not only when it lifts.
// While the pointer is down, a small PNG of the canvas goes to Python every SEND_MS and
// once more on pointer-up, which also fires "stroke_end" for the slower pictures.
// Python's preprocessing does the rest (crop, fit, centre).
const SEND_MS = 150;
const SEND_SIZE = 112;       // 4x MNIST's 28: enough detail for small digits
const canvas = element.querySelector("canvas.pad");
const ctx = canvas.getContext("2d");
const small = document.createElement("canvas");
small.width = small.height = SEND_SIZE;
const smallCtx = small.getContext("2d");
let drawing = false, last = null, timer = null, dirty = false;

function blank() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = ctx.fillStyle = "#000";
  ctx.lineWidth = 18;
  ctx.lineCap = ctx.lineJoin = "round";
}
function point(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width,
          (e.clientY - r.top) * canvas.height / r.height];
}
function dot(p) {
  ctx.beginPath();
  ctx.arc(p[0], p[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
  ctx.fill();
}
function send() {
  if (!dirty) return;
  dirty = false;
  smallCtx.imageSmoothingEnabled = true;
  smallCtx.imageSmoothingQuality = "high";
  smallCtx.drawImage(canvas, 0, 0, SEND_SIZE, SEND_SIZE);
  props.value = small.toDataURL("image/png");
}
function finish() {
  if (!drawing) return;
  drawing = false;
  clearInterval(timer);
  dirty = true;
  send();
  trigger("stroke_end");   // the pictures are drawn once per stroke, not while it moves
}

blank();
canvas.addEventListener("pointerdown", (e) => {
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  drawing = true;
  last = point(e);
  dot(last);
  dirty = true;
  clearInterval(timer);
  timer = setInterval(send, SEND_MS);
});
canvas.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  ctx.beginPath();
  ctx.moveTo(last[0], last[1]);
  for (const ev of (events.length ? events : [e])) {
    last = point(ev);
    ctx.lineTo(last[0], last[1]);
  }
  ctx.stroke();
  dirty = true;
});
canvas.addEventListener("pointerup", finish);
canvas.addEventListener("pointercancel", finish);
canvas.addEventListener("lostpointercapture", finish);
element.querySelector(".pad-clear").addEventListener("click", () => {
  drawing = false;
  clearInterval(timer);
  blank();
  props.value = "";
  trigger("pad_cleared");  // resets the whole tab, also after an upload was shown
});
// A value set from Python (an API call, a reset) that is empty clears the canvas too.
watch("value", () => { if (!props.value) blank(); });
