/**
 * A detailed photo's RGBA PNG barely compresses: up to about 4 bytes a pixel (a 22 MP photo's is
 * some 70 MB), past the result cap, so such a cut would be refused after all the work. Where even
 * the worst case could pass the cap, the cut is scaled down to the largest size whose worst case
 * fits (about 5.8 MP for the default 23.95 MB): a smaller cutout rather than none. WebP would keep the
 * size, but libwebp held +630 MB encoding 22 MP, against +180 MB for the PNG.
 */
const PNG_WORST_BYTES_PER_PIXEL = 4.1;

export function cutoutSize(width: number, height: number, maxResultBytes: number): { width: number; height: number } {
  const scale = Math.sqrt(maxResultBytes / PNG_WORST_BYTES_PER_PIXEL / (width * height));
  if (scale >= 1) return { width, height };
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}
