/* qr.c - the verification URL as a QR code drawn with Unicode half blocks.
 *
 * libqrencode builds the symbol: 8-bit mode hint, case kept (it still uses
 * shorter alphanumeric/numeric segments where they pay), error correction
 * level L - a screen is not a dirty label, and L keeps the device URL of
 * every region at version 4, 33 modules, where M needs 37 for most. Each
 * text line carries two module rows:
 *
 *     upper row  lower row   drawn as
 *     light      light       U+2588 FULL BLOCK
 *     light      dark        U+2580 UPPER HALF BLOCK
 *     dark       light       U+2584 LOWER HALF BLOCK
 *     dark       dark        space
 *
 * Light modules, the quiet zone included, are the ones drawn: on the usual
 * dark-background terminal the blocks come out light and the background
 * supplies the dark modules, so the code has the normal polarity. On a light
 * background it appears inverted (most phone scanners read that too).
 *
 * The quiet zone is 4 modules (the standard) when that fits in 80 columns,
 * otherwise as many as fit down to 2; a symbol that does not fit even then
 * is refused and the caller shows the text alone. Below the symbol's odd
 * last row the lower half is left undrawn (terminal background).
 *
 * No global state, nothing kept between calls; the result is malloc'd.
 *
 * libqrencode is optional at build time: the Makefile defines HAVE_QRENCODE
 * when pkg-config finds it (QR=no leaves it out). Without it qr_render()
 * always returns NULL and qr_available() says so, so that the qr option is
 * refused as a configuration error (config.c) instead of silently doing
 * nothing. */
#include "core/qr.h"

#include <stdlib.h>

#ifdef HAVE_QRENCODE

#include <qrencode.h>
#include <string.h>

#define QR_INPUT_MAX 512 /* bytes; longer text is refused */
#define QR_COLUMNS 80    /* terminal width the whole drawing must fit */
#define QR_QUIET_BEST 4  /* modules, per ISO/IEC 18004 */
#define QR_QUIET_MIN 2   /* modules; most scanners still cope */

/* UTF-8 of the four cells; every one is at most 3 bytes. */
#define CELL_MAX 3
static const char *const cell[4] = {
    " ",            /* neither half light */
    "\xe2\x96\x84", /* lower half light: U+2584 */
    "\xe2\x96\x80", /* upper half light: U+2580 */
    "\xe2\x96\x88", /* both light:       U+2588 */
};

/* Is module (x, y) of the drawing, quiet zone included, light? Outside the
 * drawing (only the lower half of the last line) counts as not drawn. */
static bool is_light(const QRcode *q, int quiet, int x, int y)
{
    int size = q->width + 2 * quiet;
    if (x < 0 || y < 0 || x >= size || y >= size)
        return false;
    int mx = x - quiet, my = y - quiet;
    if (mx < 0 || my < 0 || mx >= q->width || my >= q->width)
        return true; /* quiet zone */
    return (q->data[(size_t)my * (size_t)q->width + (size_t)mx] & 1) == 0;
}

char *qr_render(const char *text)
{
    if (!text || !text[0] || strnlen(text, QR_INPUT_MAX + 1) > QR_INPUT_MAX)
        return NULL;

    /* casesensitive = 1: URLs (and user codes in them) keep their case. */
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (!q)
        return NULL;
    if (q->width <= 0 || q->width + 2 * QR_QUIET_MIN > QR_COLUMNS) {
        QRcode_free(q);
        return NULL;
    }
    int quiet = QR_QUIET_BEST;
    while (q->width + 2 * quiet > QR_COLUMNS)
        quiet--;

    int size = q->width + 2 * quiet; /* <= 80 */
    int lines = (size + 1) / 2;
    size_t cap = (size_t)lines * ((size_t)size * CELL_MAX + 1) + 1;
    char *out = malloc(cap);
    if (!out) {
        QRcode_free(q);
        return NULL;
    }
    size_t o = 0;
    for (int line = 0; line < lines; line++) {
        int y = 2 * line;
        for (int x = 0; x < size; x++) {
            int idx = (is_light(q, quiet, x, y) ? 2 : 0) | (is_light(q, quiet, x, y + 1) ? 1 : 0);
            size_t n = strlen(cell[idx]);
            memcpy(out + o, cell[idx], n);
            o += n;
        }
        out[o++] = '\n';
    }
    out[o] = '\0';
    QRcode_free(q);
    return out;
}

bool qr_available(void)
{
    return true;
}

#else /* !HAVE_QRENCODE */

char *qr_render(const char *text)
{
    (void)text;
    return NULL;
}

bool qr_available(void)
{
    return false;
}

#endif
