/* qr.h - the verification URL as a terminal QR code (libqrencode). */
#ifndef SSO_QR_H
#define SSO_QR_H

/* Render text as a QR code in Unicode half blocks, at most 80 columns wide,
 * with a quiet zone. Returns a malloc'd NUL-terminated multi-line string, or
 * NULL when it cannot be encoded to fit (the caller then shows text only). */
char *qr_render(const char *text);

#endif
