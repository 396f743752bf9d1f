"""A small drawing pad (custom component, inline JavaScript) that returns a PNG of the strokes."""

from __future__ import annotations

import base64
import binascii

import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.imageio import DecodedImage, decode_image

_JS = """
export default function (component) {
  const { parentElement, setStateValue, data } = component;
  let root = parentElement.querySelector(".pad");
  if (root) return;  // already mounted: keep the user's strokes across reruns
  root = document.createElement("div");
  root.className = "pad";
  const size = data.size;
  root.innerHTML = `<canvas width="${size}" height="${size}"
      style="border:1px solid #bbb;border-radius:6px;touch-action:none;cursor:crosshair;
             background:#000" data-testid="cnnlab-draw-canvas"></canvas>
    <div><button type="button" class="clear">${data.clearLabel}</button></div>`;
  parentElement.appendChild(root);
  const canvas = root.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, size, size); };
  clear();
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = data.brush;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  let drawing = false;
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => {
    drawing = true;
    const [x, y] = point(e);
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.01, y); ctx.stroke();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = point(e);
    ctx.lineTo(x, y); ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    setStateValue("png", canvas.toDataURL("image/png"));
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointerleave", finish);
  root.querySelector(".clear").addEventListener("click", () => {
    clear();
    setStateValue("png", null);
  });
}
"""

_PAD = st.components.v2.component("cnnlab_draw_pad", js=_JS)
_PREFIX = "data:image/png;base64,"


def decode_data_url(url: str) -> DecodedImage:
    """Decode the pad's ``data:image/png;base64,...`` value through the shared decoder."""
    if not url.startswith(_PREFIX):
        raise LocalizedError("image.error.not_image")
    try:
        data = base64.b64decode(url[len(_PREFIX) :], validate=True)
    except binascii.Error as err:
        raise LocalizedError("image.error.corrupt", format="PNG") from err
    return decode_image(data)


def draw_pad(key: str, clear_label: str, size: int = 280, brush: int = 22) -> DecodedImage | None:
    """Draw the pad; return the drawing as an RGB image (white strokes on black), or None."""
    result = _PAD(key=key, data={"size": size, "brush": brush, "clearLabel": clear_label},
                  default={"png": None}, on_png_change=lambda: None)  # fmt: skip
    url = result.png if result is not None else None
    return decode_data_url(url) if url else None
