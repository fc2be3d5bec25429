/**
 * A synthetic cartoon face drawn on a canvas, so nobody needs a real person's photo to try the
 * service. The background is one plain colour, which the local provider's cutout can remove.
 */
export async function sampleFacePng(size = 512) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const g = canvas.getContext("2d");
  const s = size / 512; // drawn on a 512 grid, scaled

  g.fillStyle = "#cfe3f3";
  g.fillRect(0, 0, size, size);

  const ellipse = (x, y, rx, ry, fill) => {
    g.beginPath();
    g.ellipse(x * s, y * s, rx * s, ry * s, 0, 0, Math.PI * 2);
    g.fillStyle = fill;
    g.fill();
  };

  // Shoulders and neck, hair behind the head, then the face.
  ellipse(256, 520, 190, 110, "#3f6e9e");
  ellipse(256, 380, 46, 60, "#e0a982");
  ellipse(256, 215, 150, 165, "#5a3a22");
  ellipse(256, 250, 120, 145, "#f1c09a");
  ellipse(136, 255, 18, 30, "#e8b08a");
  ellipse(376, 255, 18, 30, "#e8b08a");
  // Fringe.
  g.beginPath();
  g.moveTo(136 * s, 200 * s);
  g.quadraticCurveTo(256 * s, 40 * s, 376 * s, 200 * s);
  g.quadraticCurveTo(300 * s, 130 * s, 190 * s, 175 * s);
  g.closePath();
  g.fillStyle = "#5a3a22";
  g.fill();

  // Eyes, brows, nose, cheeks, mouth.
  for (const x of [208, 304]) {
    ellipse(x, 240, 22, 14, "#ffffff");
    ellipse(x, 241, 10, 10, "#3b2a1a");
    ellipse(x + 3, 237, 3, 3, "#ffffff");
    g.beginPath();
    g.moveTo((x - 26) * s, 212 * s);
    g.quadraticCurveTo(x * s, 198 * s, (x + 26) * s, 212 * s);
    g.lineWidth = 7 * s;
    g.lineCap = "round";
    g.strokeStyle = "#4a2f1c";
    g.stroke();
  }
  g.beginPath();
  g.moveTo(256 * s, 255 * s);
  g.quadraticCurveTo(244 * s, 300 * s, 262 * s, 305 * s);
  g.lineWidth = 5 * s;
  g.strokeStyle = "#c98d68";
  g.stroke();
  ellipse(190, 300, 22, 12, "#f3a6a0");
  ellipse(322, 300, 22, 12, "#f3a6a0");
  g.beginPath();
  g.moveTo(212 * s, 330 * s);
  g.quadraticCurveTo(256 * s, 368 * s, 300 * s, 330 * s);
  g.lineWidth = 8 * s;
  g.strokeStyle = "#a8464a";
  g.stroke();

  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the canvas made no image"))), "image/png"),
  );
}
