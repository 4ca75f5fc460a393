/*
 * The export and import subcommands end to end (gateway/cli_export.c,
 * cli_import.c over http_client.c, docs/configuration.md#commands) against an
 * in-process server that answers with fuzzed bytes: what a hostile or
 * broken server at --url can make the CLI do.
 *
 * Input: byte 0 = mode (bit 0 import instead of export, bit 1 --since,
 * bit 2 --until, bit 3 two --categories), then the responses to the first
 * requests separated by "\0\0\0"; later requests get an empty page (export)
 * or a completion event (import), so every run ends.
 *
 * Checked: no memory error or undefined behaviour, and the subcommand
 * returns an exit status (0, 1 or 2) instead of hanging or crashing.
 */
#include "cli.h"
#include "log.h"

#include <netinet/in.h>
#include <sys/time.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_NAME "fuzz_cli_client"
#include "fuzz_check.h"

#define MAX_RESP 8

static int	listen_fd;
static int	port;
static char input_path[] = "/tmp/eventodb-fuzz-cli-XXXXXX";

/* the current input's responses, consumed by the server thread */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static bool busy;				/* the server is sending from resp[] */
static uint8_t *copy;			/* this input's bytes, owned here */
static const uint8_t *resp[MAX_RESP];
static size_t resp_len[MAX_RESP];
static int	nresp,
			next_resp;
static bool import_mode;

static const char empty_page[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n[]\n";
static const char import_done[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
"data: {\"done\":true,\"imported\":1,\"elapsed\":\"0.0s\"}\n\n";

static void
send_all(int fd, const void *p, size_t n)
{
	while (n > 0)
	{
		ssize_t		k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;
		p = (const char *) p + k;
		n -= (size_t) k;
	}
}

/* Reads one request: the head, then a Content-Length or chunked body. */
static void
read_request(int fd)
{
	char		buf[65536];
	size_t		n = 0;
	char	   *end = NULL;
	struct timeval tv = {1, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < sizeof(buf) - 1 && (end = memmem(buf, n, "\r\n\r\n", 4)) == NULL)
	{
		ssize_t		k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);

		if (k <= 0)
			return;
		n += (size_t) k;
	}
	if (end == NULL)
		return;
	buf[n] = '\0';
	{
		size_t		head = (size_t) (end + 4 - buf);
		char	   *cl = strcasestr(buf, "\r\nContent-Length:");
		bool		chunked = strcasestr(buf, "\r\nTransfer-Encoding: chunked") != NULL;
		size_t		want = cl && cl < end ? (size_t) strtoul(cl + 17, NULL, 10) : 0;
		size_t		have = n - head;

		if (chunked)
		{
			/* keep the last bytes to spot the terminating chunk */
			char		tail[8] = {0};

			while (true)
			{
				ssize_t		k;

				if (n >= 5 && memcmp(buf + n - 5, "0\r\n\r\n", 5) == 0)
					return;
				memcpy(tail, n >= 7 ? buf + n - 7 : buf, n >= 7 ? 7 : n);
				k = recv(fd, buf + 7, sizeof(buf) - 8, 0);
				if (k <= 0)
					return;
				memcpy(buf, tail, 7);
				n = 7 + (size_t) k;
			}
		}
		while (have < want)
		{
			ssize_t		k = recv(fd, buf, sizeof(buf), 0);

			if (k <= 0)
				return;
			have += (size_t) k;
		}
	}
}

static void *
server(void *arg)
{
	(void) arg;
	for (;;)
	{
		int			c = accept(listen_fd, NULL, NULL);

		if (c < 0)
			continue;
		/* one response per connection, then close: the client reconnects */
		read_request(c);
		pthread_mutex_lock(&mu);
		if (next_resp < nresp)
		{
			const uint8_t *p = resp[next_resp];
			size_t		n = resp_len[next_resp];

			next_resp++;
			busy = true;
			pthread_mutex_unlock(&mu);
			send_all(c, p, n);
			pthread_mutex_lock(&mu);
			busy = false;
			pthread_cond_broadcast(&idle_cv);
			pthread_mutex_unlock(&mu);
		}
		else
		{
			bool		imp = import_mode;

			pthread_mutex_unlock(&mu);
			if (imp)
				send_all(c, import_done, sizeof(import_done) - 1);
			else
				send_all(c, empty_page, sizeof(empty_page) - 1);
		}
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t	len = sizeof(a);
	pthread_t	t;
	int			fd;
	static const char lines[] =
		"{\"id\":\"0195b3c2-7d1e-7a80-9c55-1f2e3d4c5b6a\",\"stream\":\"a-1\",\"type\":\"T\","
		"\"pos\":0,\"gpos\":1,\"data\":{},\"meta\":null,\"time\":\"2025-03-01T09:15:02Z\"}\n";

	(void) argc;
	(void) argv;
	signal(SIGPIPE, SIG_IGN);
	log_configure(LOG_ERROR, 0);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *) &a, sizeof(a)) != 0 ||
		listen(listen_fd, 64) != 0 || getsockname(listen_fd, (struct sockaddr *) &a, &len) != 0)
		abort();
	port = ntohs(a.sin_port);
	fd = mkstemp(input_path);
	if (fd < 0 || write(fd, lines, sizeof(lines) - 1) != (ssize_t) (sizeof(lines) - 1))
		abort();
	close(fd);
	if (pthread_create(&t, NULL, server, NULL) != 0)
		abort();
	pthread_detach(t);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		url[64];
	char	   *argv[16];
	int			argc = 0;
	int			rc;
	unsigned	mode;
	const uint8_t *p,
			   *end;

	if (size < 1)
		return 0;
	mode = data[0];
	pthread_mutex_lock(&mu);
	copy = malloc(size);
	memcpy(copy, data, size);
	nresp = next_resp = 0;
	import_mode = mode & 1;
	p = copy + 1;
	end = copy + size;
	while (p <= end && nresp < MAX_RESP)
	{
		const uint8_t *sep = memmem(p, (size_t) (end - p), "\0\0\0", 3);
		const uint8_t *stop = sep ? sep : end;

		resp[nresp] = p;
		resp_len[nresp] = (size_t) (stop - p);
		nresp++;
		if (sep == NULL)
			break;
		p = sep + 3;
	}
	pthread_mutex_unlock(&mu);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	argv[argc++] = (char *) (mode & 1 ? "import" : "export");
	argv[argc++] = (char *) "--url";
	argv[argc++] = url;
	argv[argc++] = (char *) "--token=ns_ZGVmYXVsdA_0000000000000000000000000000000000000000000000000000000000000000";
	if (mode & 1)
	{
		argv[argc++] = (char *) "--input";
		argv[argc++] = input_path;
	}
	else
	{
		argv[argc++] = (char *) "--output=/dev/null";
		if (mode & 2)
			argv[argc++] = (char *) "--since=2025-03-01";
		if (mode & 4)
			argv[argc++] = (char *) "--until=2025-03-01T09:15:03Z";
		if (mode & 8)
			argv[argc++] = (char *) "--categories= a , b";
	}
	argv[argc] = NULL;
	rc = (mode & 1) ? cli_import_main(argc, argv) : cli_export_main(argc, argv);
	CHECK(rc == 0 || rc == 1 || rc == 2, "exit status %d", rc);
	/* a late connection may still be served from this input */
	pthread_mutex_lock(&mu);
	nresp = 0;
	while (busy)
		pthread_cond_wait(&idle_cv, &mu);
	free(copy);
	copy = NULL;
	pthread_mutex_unlock(&mu);
	return 0;
}
