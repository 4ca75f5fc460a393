/* The web console (docs/console.md): static assets compiled into the binary
 * (ui_assets.c, generated from ui/ by scripts/build/ui-embed.py) and served at
 * /ui/ with a strict Content-Security-Policy. The assets need no
 * authentication; the console calls /rpc and /subscribe with the token its
 * user typed in, like any other client. */
#ifndef GW_UI_H
#define GW_UI_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct UiAsset
{
	const char *name;			/* path below /ui/, e.g. "app.js" */
	const char *content_type;
	const unsigned char *body;
	size_t		len;
	const char *etag;			/* strong: a quoted digest of body */
} UiAsset;

/* Generated: every file of ui/, sorted by name. */
extern const UiAsset ui_assets[];
extern const size_t ui_asset_count;

/*
 * Whether url is the console's: "/ui" (redirected to "/ui/") or "/ui/" plus
 * the name of an asset ("/ui/" itself is index.html). Any other path under
 * /ui/ keeps docs/http-api.md#endpoints's 404 for unknown paths.
 */
bool		ui_serves(const char *url);

/* Answers a url for which ui_serves() is true: GET/HEAD, 304 on a matching
 * If-None-Match, 405 for other methods. */
enum MHD_Result ui_handle(struct MHD_Connection *c, const char *url, const char *method);

#endif
