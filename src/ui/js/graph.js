// graph.js: a download/upload line graph on a canvas, from [{t, dl, up}].
import { speed } from "./util.js";

export function drawSpeeds(canvas, samples, { axis = true } = {}) {
  const dpr = devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w || !h) return;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const css = getComputedStyle(canvas);
  const max = Math.max(1024, ...samples.map((s) => Math.max(s.dl, s.up)));
  const n = samples.length;
  const line = (key, color) => {
    g.beginPath();
    g.strokeStyle = color;
    g.lineWidth = 1.5;
    samples.forEach((s, i) => {
      const x = n < 2 ? w : (i / (n - 1)) * w;
      const y = h - 2 - (s[key] / max) * (h - 14);
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.stroke();
  };
  line("dl", css.getPropertyValue("--down").trim() || "#1f6feb");
  line("up", css.getPropertyValue("--up").trim() || "#1a7f37");
  if (axis) {
    g.fillStyle = css.getPropertyValue("--muted").trim() || "#888";
    g.font = "10px system-ui";
    g.fillText(speed(max), 4, 10);
  }
}
