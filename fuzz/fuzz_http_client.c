/*
 * The export/import subcommands' HTTP client (gateway/http_client.c): the
 * status line, headers and Content-Length / chunked / until-close body
 * framing of responses coming from whatever server --url names, and the
 * --url parser itself.
 *
 * Input: byte 0 = mode (bit 0: read the body with hc_read_all instead of
 * small hc_read_body calls), then a line with the URL to parse, then the raw
 * response bytes, served over a socketpair.
 *
 * Checked: no memory error; hc_read_body never returns more than asked;
 * hc_read_all respects its limit; a parsed URL has host, port and path.
 */
#include "http_client.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_NAME "fuzz_http_client"
#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			sv[2];
	HcConn		hc;
	StrBuf		err = STRBUF_INIT;
	const uint8_t *nl;
	size_t		ulen;
	char	   *url;
	HcUrl		u;

	if (size < 1 || size > 60000)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	ulen = nl ? (size_t) (nl - (data + 1)) : 0;
	url = malloc(ulen + 1);
	memcpy(url, data + 1, ulen);
	url[ulen] = '\0';
	memset(&u, 0, sizeof(u));
	if (hc_url_parse(url, &u, &err))
	{
		CHECK(u.host && u.port && u.path, "URL parsed without host/port/path");
		hc_url_free(&u);
	}
	free(url);
	sb_free(&err);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	{
		const uint8_t *resp = nl ? nl + 1 : data + 1;
		size_t		rlen = (size_t) (data + size - resp);
		size_t		off = 0;

		while (off < rlen)
		{
			ssize_t		k = write(sv[1], resp + off, rlen - off);

			if (k <= 0)
				abort();
			off += (size_t) k;
		}
	}
	close(sv[1]);
	memset(&hc, 0, sizeof(hc));
	hc.fd = sv[0];
	if (hc_read_head(&hc, &err))
	{
		if (data[0] & 1)
		{
			StrBuf		all = STRBUF_INIT;

			(void) hc_read_all(&hc, &all, 4096);
			CHECK(all.len <= 4096, "hc_read_all kept %zu bytes past its limit", all.len);
			sb_free(&all);
		}
		else
		{
			char		buf[7];

			for (int i = 0; i < 20000; i++)
			{
				ssize_t		k = hc_read_body(&hc, buf, sizeof(buf));

				CHECK(k <= (ssize_t) sizeof(buf), "hc_read_body returned %zd", k);
				if (k <= 0)
					break;
			}
		}
	}
	sb_free(&err);
	hc_close(&hc);				/* closes sv[0] */
	return 0;
}
