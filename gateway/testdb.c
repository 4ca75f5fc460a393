/* See testdb.h.
 *
 * Layout:
 *   /var/tmp/eventodb-template-<uid>-<pg>-<stamp>/data   the template cluster
 *   /var/tmp/eventodb-template-<uid>-<pg>.lock            flock: build once
 *   /dev/shm/eventodb-test-XXXXXX/{data,.s.PGSQL.5432,...} one launch
 *
 * A launch lives in /dev/shm when it is there (tmpfs: the copy takes a
 * tenth of what it takes on disk here, and the data is throw-away), else
 * in /tmp.
 *
 * <stamp> hashes the installed extension (SQL, control file, library), so
 * a `make install` of a changed extension builds a fresh template. Each
 * directory carries a marker file; nothing without one is ever removed.
 * Run as root, PostgreSQL runs as user postgres (it refuses root). */
#include "testdb.h"

#include "config.h"
#include "deadline.h"
#include "log.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEMPLATE_FORMAT "2"		/* bump when the template's contents change */
#define MARKER "eventodb-testdb.marker"
#define READY_TIMEOUT_MS 30000

typedef struct RunUser
{
	uid_t		uid;
	gid_t		gid;
	char	   *name;
	bool		switch_user;	/* we are root: drop to this user */
} RunUser;

static pid_t postmaster_pid = -1;
static char *run_dir;

static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
	va_list		ap;
	char	   *out = NULL;
	int			n;

	va_start(ap, f);
	n = vasprintf(&out, f, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return out;
}

static const char *
bindir(void)
{
	static char *dir;
	const char *env = g_config.pg_bindir;
	char	   *p;

	if (dir != NULL)
		return dir;
	if (env != NULL && *env != '\0')
		return dir = strdup(env);
	p = fmt("%s/postgres", PG_BINDIR);
	if (access(p, X_OK) == 0)
		dir = strdup(PG_BINDIR);
	else
		dir = fmt("/usr/lib/postgresql/%s/bin", PG_MAJOR);
	free(p);
	return dir;
}

static bool
run_user(RunUser *u, char **err)
{
	struct passwd *pw;
	const char *name;

	if (geteuid() != 0)
	{
		pw = getpwuid(geteuid());
		u->uid = geteuid();
		u->gid = getegid();
		u->name = strdup(pw ? pw->pw_name : "postgres");
		u->switch_user = false;
		return true;
	}
	name = g_config.pg_user;
	if (name == NULL)
		name = "postgres";
	pw = getpwnam(name);
	if (pw == NULL)
	{
		*err = fmt("running as root, PostgreSQL must run as another user, and user '%s' does not exist "
				   "(set EVENTODB_PG_USER)", name);
		return false;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->name = strdup(pw->pw_name);
	u->switch_user = true;
	return true;
}

/* In a forked child: become the run user, reset signals, send output to log. */
static void
child_setup(const RunUser *u, const char *logfile, bool die_with_parent, pid_t parent)
{
	sigset_t	none;
	int			fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0)
	{
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
	{
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	if (u->switch_user)
	{
		if (setgroups(0, NULL) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0)
		{
			fprintf(stderr, "cannot switch to user %s: %s\n", u->name, strerror(errno));
			_exit(127);
		}
	}
	/* after setuid, which clears it: a crashed gateway takes its cluster along */
	if (die_with_parent)
	{
		prctl(PR_SET_PDEATHSIG, SIGQUIT);
		if (getppid() != parent)
			_exit(1);
	}
}

static pid_t
spawn(const RunUser *u, char *const argv[], const char *logfile, bool die_with_parent, char **err)
{
	pid_t		parent = getpid();
	pid_t		pid = fork();

	if (pid < 0)
	{
		*err = fmt("fork failed: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
	{
		child_setup(u, logfile, die_with_parent, parent);
		execv(argv[0], argv);
		fprintf(stderr, "cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Last lines of a log file, for error messages. */
static char *
log_tail(const char *path)
{
	FILE	   *f = fopen(path, "r");
	StrBuf		sb = STRBUF_INIT;
	char		buf[4096];
	size_t		n;
	char	   *start;

	if (f == NULL)
		return strdup("(no log)");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_append(&sb, buf, n);
	fclose(f);
	if (sb.len == 0)
	{
		sb_free(&sb);
		return strdup("(empty log)");
	}
	start = sb.data + (sb.len > 600 ? sb.len - 600 : 0);
	for (char *p = start; *p; p++)
		if (*p == '\n')
			*p = ' ';
	start = strdup(start);
	sb_free(&sb);
	return start;
}

static bool
run_wait(const RunUser *u, char *const argv[], const char *logfile, char **err)
{
	int			status;
	pid_t		pid = spawn(u, argv, logfile, false, err);

	if (pid < 0)
		return false;
	while (waitpid(pid, &status, 0) < 0)
	{
		if (errno != EINTR)
		{
			*err = fmt("waitpid failed: %s", strerror(errno));
			return false;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		char	   *tail = log_tail(logfile);

		*err = fmt("%s failed: %s", argv[0], tail);
		free(tail);
		return false;
	}
	return true;
}

static bool
make_dir_for(const RunUser *u, const char *path, char **err)
{
	if (u->switch_user && chown(path, u->uid, u->gid) != 0)
	{
		*err = fmt("cannot chown %s: %s", path, strerror(errno));
		return false;
	}
	if (chmod(path, 0700) != 0)
	{
		*err = fmt("cannot chmod %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	remove(path);
	return 0;
}

/* Removes a directory tree, only when it carries our marker. */
static void
remove_marked_tree(const char *dir)
{
	char	   *m = fmt("%s/%s", dir, MARKER);

	if (access(m, F_OK) == 0)
		nftw(dir, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
	free(m);
}

static void
write_file(const char *path, const char *text)
{
	FILE	   *f = fopen(path, "w");

	if (f != NULL)
	{
		fputs(text, f);
		fclose(f);
	}
}

static void
digest_file(EVP_MD_CTX *ctx, const char *path, bool contents)
{
	struct stat st;

	EVP_DigestUpdate(ctx, path, strlen(path) + 1);
	if (stat(path, &st) != 0)
		return;
	if (contents)
	{
		FILE	   *f = fopen(path, "rb");
		char		buf[65536];
		size_t		n;

		if (f == NULL)
			return;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			EVP_DigestUpdate(ctx, buf, n);
		fclose(f);
	}
	else
	{
		EVP_DigestUpdate(ctx, &st.st_size, sizeof(st.st_size));
		EVP_DigestUpdate(ctx, &st.st_mtim, sizeof(st.st_mtim));
	}
}

/* Identity of the installed extension (and of the server binary). */
static char *
template_stamp(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned int mdlen = 0;
	char	   *extdir = fmt("%s/extension", PG_SHAREDIR);
	DIR		   *d = opendir(extdir);
	struct dirent *de;
	char	  **names = NULL;
	size_t		n = 0;
	StrBuf		hex = STRBUF_INIT;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, TEMPLATE_FORMAT, 1);
	while (d != NULL && (de = readdir(d)) != NULL)
	{
		if (strncmp(de->d_name, "eventodb", 8) != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(char *));
		if (names == NULL)
			abort();
		names[n++] = strdup(de->d_name);
	}
	if (d != NULL)
		closedir(d);
	/* readdir order is arbitrary; the stamp must not be */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0)
			{
				char	   *t = names[i];

				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++)
	{
		char	   *p = fmt("%s/%s", extdir, names[i]);

		digest_file(ctx, p, true);
		free(p);
		free(names[i]);
	}
	free(names);
	{
		char	   *so = fmt("%s/eventodb.so", PG_PKGLIBDIR);
		char	   *pg = fmt("%s/postgres", bindir());

		digest_file(ctx, so, false);
		digest_file(ctx, pg, false);
		free(so);
		free(pg);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	free(extdir);
	for (int i = 0; i < 6; i++)
		sb_printf(&hex, "%02x", md[i]);
	return sb_steal(&hex);
}

static char *
socket_conninfo(const char *sockdir, const char *user, const char *db)
{
	return fmt("host='%s' port=5432 user='%s' dbname='%s' connect_timeout=5", sockdir, user, db);
}

/* Waits until the postmaster accepts connections, or fails. */
static bool
wait_ready(pid_t pid, const char *sockdir, const RunUser *u, const char *logfile, char **err)
{
	char	   *ci = socket_conninfo(sockdir, u->name, "postgres");
	int64_t		deadline = monotonic_ms() + READY_TIMEOUT_MS;
	bool		ok = false;

	while (monotonic_ms() < deadline)
	{
		int			status;

		if (PQping(ci) == PQPING_OK)
		{
			ok = true;
			break;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
		{
			char	   *tail = log_tail(logfile);

			*err = fmt("PostgreSQL exited during start-up: %s", tail);
			free(tail);
			free(ci);
			return false;
		}
		usleep(10000);
	}
	free(ci);
	if (!ok)
		*err = fmt("PostgreSQL did not accept connections within %d s", READY_TIMEOUT_MS / 1000);
	return ok;
}

static pid_t
start_postmaster(const RunUser *u, const char *datadir, const char *sockdir,
				 const char *logfile, bool die_with_parent, char **err)
{
	char	   *prog = fmt("%s/postgres", bindir());
	char	   *const argv[] = {
		prog, "-D", (char *) datadir, "-k", (char *) sockdir,
		"-c", "listen_addresses=", "-c", "port=5432", NULL
	};
	pid_t		pid = spawn(u, argv, logfile, die_with_parent, err);

	free(prog);
	if (pid > 0 && !wait_ready(pid, sockdir, u, logfile, err))
	{
		kill(pid, SIGQUIT);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static bool
exec_sql(PGconn *conn, const char *sql, char **err)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		*err = fmt("%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

static bool
create_database(const RunUser *u, const char *sockdir, char **err)
{
	char	   *ci = socket_conninfo(sockdir, u->name, "postgres");
	PGconn	   *conn = PQconnectdb(ci);
	bool		ok = PQstatus(conn) == CONNECTION_OK;

	free(ci);
	if (!ok)
		*err = fmt("cannot connect to the template cluster: %s", PQerrorMessage(conn));
	ok = ok && exec_sql(conn, "CREATE DATABASE eventodb", err);
	PQfinish(conn);
	if (!ok)
		return false;
	ci = socket_conninfo(sockdir, u->name, "eventodb");
	conn = PQconnectdb(ci);
	free(ci);
	ok = PQstatus(conn) == CONNECTION_OK;
	if (!ok)
		*err = fmt("cannot connect to the template database: %s", PQerrorMessage(conn));
	ok = ok && exec_sql(conn, "CREATE EXTENSION eventodb", err);
	PQfinish(conn);
	return ok;
}

static bool
stop_postmaster(pid_t pid, int sig)
{
	int64_t		deadline = monotonic_ms() + 10000;
	int			status;

	if (kill(pid, sig) != 0)
		return false;
	while (monotonic_ms() < deadline)
	{
		if (waitpid(pid, &status, WNOHANG) == pid)
			return true;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return false;
}

static bool
build_template(const RunUser *u, const char *prefix, const char *final_dir, char **err)
{
	char	   *build = fmt("%s-build-XXXXXX", prefix);
	char	   *data = NULL,
			   *logfile = NULL,
			   *conf = NULL,
			   *marker = NULL,
			   *initdb = NULL,
			   *so = NULL;
	pid_t		pid;
	bool		ok = false;
	int64_t		t0 = monotonic_ms();

	if (mkdtemp(build) == NULL)
	{
		*err = fmt("cannot create %s: %s", build, strerror(errno));
		free(build);
		return false;
	}
	marker = fmt("%s/%s", build, MARKER);
	write_file(marker, "eventodb test-mode template cluster\n");
	if (!make_dir_for(u, build, err))
		goto out;
	data = fmt("%s/data", build);
	logfile = fmt("%s/build.log", build);
	initdb = fmt("%s/initdb", bindir());
	{
		char	   *userarg = fmt("--username=%s", u->name);
		char	   *const argv[] = {
			initdb, "-D", data, userarg, "--auth=trust", "--encoding=UTF8",
			"--locale=C.UTF-8", "--no-sync", "--no-instructions",
			"--wal-segsize=1", NULL
		};

		log_info("test mode: building the template cluster (once per extension install)");
		ok = run_wait(u, argv, logfile, err);
		free(userarg);
		if (!ok)
			goto out;
		ok = false;
	}
	conf = fmt("%s/postgresql.conf", data);
	so = fmt("%s/eventodb.so", PG_PKGLIBDIR);
	{
		FILE	   *f = fopen(conf, "a");

		if (f == NULL)
		{
			*err = fmt("cannot append to %s: %s", conf, strerror(errno));
			goto out;
		}
		/* a throw-away store: durability buys nothing here */
		fprintf(f, "\n# --- eventodb test-mode cluster ---\n"
				"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
				"max_connections = 200\nshared_buffers = 64MB\n"
				"max_locks_per_transaction = 256\n"
				"log_min_messages = warning\nlogging_collector = off\n"
				"%s",
				access(so, F_OK) == 0 ? "shared_preload_libraries = 'eventodb'\n" : "");
		fclose(f);
	}
	pid = start_postmaster(u, data, build, logfile, true, err);
	if (pid < 0)
		goto out;
	ok = create_database(u, build, err);
	/* a clean (fast) shutdown, so copies start without crash recovery */
	if (!stop_postmaster(pid, SIGINT) && ok)
	{
		*err = fmt("the template cluster did not shut down cleanly");
		ok = false;
	}
	if (!ok)
		goto out;
	if (rename(build, final_dir) != 0)
	{
		*err = fmt("cannot rename %s to %s: %s", build, final_dir, strerror(errno));
		ok = false;
		goto out;
	}
	log_info("test mode: template cluster ready in %lld ms (%s)",
			 (long long) (monotonic_ms() - t0), final_dir);
out:
	if (!ok)
		remove_marked_tree(build);
	free(build);
	free(data);
	free(logfile);
	free(conf);
	free(marker);
	free(initdb);
	free(so);
	return ok;
}

/* Removes templates of older extension installs (same uid and server). */
static void
remove_stale_templates(const char *prefix, const char *keep)
{
	const char *slash = strrchr(prefix, '/');
	char	   *dir = strndup(prefix, (size_t) (slash - prefix));
	const char *base = slash + 1;
	DIR		   *d = opendir(dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL)
	{
		char	   *full;

		if (strncmp(de->d_name, base, strlen(base)) != 0 || de->d_name[strlen(base)] != '-')
			continue;
		full = fmt("%s/%s", dir, de->d_name);
		if (strcmp(full, keep) != 0)
			remove_marked_tree(full);
		free(full);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}

/*
 * Makes sure the template exists; returns its directory with the lock file
 * held shared (*lockfd), so no concurrent rebuild removes it while copied.
 */
static char *
ensure_template(const RunUser *u, int *lockfd, char **err)
{
	char	   *prefix = fmt("/var/tmp/eventodb-template-%u-%s", (unsigned) geteuid(), PG_MAJOR);
	char	   *stamp = template_stamp();
	char	   *dir = fmt("%s-%s", prefix, stamp);
	char	   *lockpath = fmt("%s.lock", prefix);
	char	   *marker = fmt("%s/%s", dir, MARKER);
	int			fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(stamp);
	if (fd < 0 || flock(fd, LOCK_EX) != 0)
	{
		*err = fmt("cannot lock %s: %s", lockpath, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(dir);
		dir = NULL;
		goto out;
	}
	if (access(marker, F_OK) != 0)
	{
		remove_stale_templates(prefix, dir);
		if (!build_template(u, prefix, dir, err))
		{
			close(fd);
			free(dir);
			dir = NULL;
			goto out;
		}
	}
	flock(fd, LOCK_SH);
	*lockfd = fd;
out:
	free(prefix);
	free(lockpath);
	free(marker);
	return dir;
}

static const char *const run_parents[] = {"/dev/shm", "/tmp"};

/* Launch directories left by a gateway that died without cleaning up. */
static void
remove_abandoned_runs(void)
{
	for (size_t i = 0; i < sizeof(run_parents) / sizeof(run_parents[0]); i++)
	{
		DIR		   *d = opendir(run_parents[i]);
		struct dirent *de;

		while (d != NULL && (de = readdir(d)) != NULL)
		{
			char	   *dir,
					   *pidfile;
			FILE	   *f;
			long		pid = 0;
			struct stat st;

			if (strncmp(de->d_name, "eventodb-test-", 14) != 0)
				continue;
			dir = fmt("%s/%s", run_parents[i], de->d_name);
			pidfile = fmt("%s/owner.pid", dir);
			if (stat(pidfile, &st) == 0 && st.st_uid == geteuid() &&
				(f = fopen(pidfile, "r")) != NULL)
			{
				if (fscanf(f, "%ld", &pid) == 1 && pid > 0 &&
					kill((pid_t) pid, 0) != 0 && errno == ESRCH)
					remove_marked_tree(dir);
				fclose(f);
			}
			free(dir);
			free(pidfile);
		}
		if (d != NULL)
			closedir(d);
	}
}

/* A fresh launch directory: tmpfs when available. */
static char *
make_run_dir(char **err)
{
	for (size_t i = 0; i < sizeof(run_parents) / sizeof(run_parents[0]); i++)
	{
		char	   *dir = fmt("%s/eventodb-test-XXXXXX", run_parents[i]);

		if (access(run_parents[i], W_OK | X_OK) == 0 && mkdtemp(dir) != NULL)
			return dir;
		free(dir);
	}
	*err = fmt("cannot create a directory under /dev/shm or /tmp: %s", strerror(errno));
	return NULL;
}

static char *
url_escape(const char *s)
{
	StrBuf		sb = STRBUF_INIT;

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~')
			sb_putc(&sb, (char) c);
		else
			sb_printf(&sb, "%%%02X", c);
	}
	return sb_steal(&sb);
}

bool
testdb_start(char **db_url, char **err)
{
	RunUser		u;
	int			lockfd = -1;
	char	   *template_dir;
	char	   *dir = NULL;
	char	   *data = NULL,
			   *logfile = NULL,
			   *src = NULL,
			   *tmp;
	bool		ok = false;
	int64_t		t0 = monotonic_ms();

	if (!run_user(&u, err))
		return false;
	remove_abandoned_runs();
	template_dir = ensure_template(&u, &lockfd, err);
	if (template_dir == NULL)
		goto out;
	if ((dir = make_run_dir(err)) == NULL)
		goto out;
	run_dir = dir;
	tmp = fmt("%s/%s", dir, MARKER);
	write_file(tmp, "eventodb test-mode cluster of one launch\n");
	free(tmp);
	tmp = fmt("%s/owner.pid", dir);
	{
		char		pidtext[32];

		snprintf(pidtext, sizeof(pidtext), "%ld\n", (long) getpid());
		write_file(tmp, pidtext);
	}
	free(tmp);
	if (!make_dir_for(&u, dir, err))
		goto out;
	data = fmt("%s/data", dir);
	logfile = fmt("%s/postgres.log", dir);
	src = fmt("%s/data", template_dir);
	{
		char	   *const argv[] = {"/bin/cp", "-a", "--reflink=auto", src, data, NULL};

		if (!run_wait(&u, argv, logfile, err))
			goto out;
	}
	close(lockfd);
	lockfd = -1;
	log_debug("test mode: cluster copied in %lld ms", (long long) (monotonic_ms() - t0));
	postmaster_pid = start_postmaster(&u, data, dir, logfile, true, err);
	if (postmaster_pid < 0)
		goto out;
	{
		char	   *host = url_escape(dir);
		char	   *user = url_escape(u.name);

		*db_url = fmt("postgresql:///eventodb?host=%s&port=5432&user=%s", host, user);
		free(host);
		free(user);
	}
	log_info("test mode: private PostgreSQL ready in %lld ms (%s)",
			 (long long) (monotonic_ms() - t0), dir);
	ok = true;
out:
	if (lockfd >= 0)
		close(lockfd);
	free(template_dir);
	free(data);
	free(logfile);
	free(src);
	free(u.name);
	if (!ok)
	{
		if (run_dir != dir)
			free(dir);
		testdb_stop();
	}
	return ok;
}

void
testdb_stop(void)
{
	if (postmaster_pid > 0)
	{
		/* immediate shutdown: nothing in it is worth a checkpoint */
		stop_postmaster(postmaster_pid, SIGQUIT);
		postmaster_pid = -1;
	}
	if (run_dir != NULL)
	{
		remove_marked_tree(run_dir);
		free(run_dir);
		run_dir = NULL;
	}
}

int
testdb_prepare_main(void)
{
	RunUser		u;
	int			lockfd = -1;
	char	   *err = NULL;
	char	   *dir;

	if (!run_user(&u, &err))
	{
		log_error("%s", err);
		return 1;
	}
	dir = ensure_template(&u, &lockfd, &err);
	free(u.name);
	if (dir == NULL)
	{
		log_error("cannot build the test-mode template: %s", err);
		free(err);
		return 1;
	}
	close(lockfd);
	printf("%s\n", dir);
	free(dir);
	return 0;
}
