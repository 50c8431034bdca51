/* Shared by the declaration-file harnesses (fuzz_ecosystem, fuzz_procfile): the input
 * is written to a file of the given name and read back the way `tend start FILE` does,
 * through eco_load, then every app is normalized by decl_normalize. A file, because
 * eco_load's public entry takes a path and the Procfile parser behind it is static. */
#ifndef TEND_FUZZ_ECO_H
#define TEND_FUZZ_ECO_H

#include "fuzz.h"
#include "client/decl.h"
#include "client/ecosystem.h"
#include "lib/jsonc.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* A directory with something for relative paths to find: a node script, an
 * executable, a plain file and a subdirectory. $FUZZ_TMP (set by run.sh to a place
 * under build/fuzz) or /tmp. */
static char eco_dir[PATH_MAX], eco_file[PATH_MAX];
static const char *const eco_fixtures[] = {"app.js", "run.sh", "notes.txt"};

static void eco_cleanup(void)
{
	char path[PATH_MAX + 32];
	for (size_t i = 0; i < ARRAY_LEN(eco_fixtures); i++) {
		snprintf(path, sizeof path, "%s/%s", eco_dir, eco_fixtures[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/sub", eco_dir);
	rmdir(path);
	unlink(eco_file);
	rmdir(eco_dir);
}

static void eco_setup(const char *name)
{
	const char *tmp = getenv("FUZZ_TMP");
	snprintf(eco_dir, sizeof eco_dir, "%s/tend-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(eco_dir)) {
		perror(eco_dir);
		exit(1);
	}
	for (size_t i = 0; i < ARRAY_LEN(eco_fixtures); i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/%s", eco_dir, eco_fixtures[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, i == 1 ? 0755 : 0644);
		if (fd < 0 || close(fd) < 0) {
			perror(path);
			exit(1);
		}
	}
	char sub[PATH_MAX + 8];
	snprintf(sub, sizeof sub, "%s/sub", eco_dir);
	mkdir(sub, 0755);
	snprintf(eco_file, sizeof eco_file, "%s/%s", eco_dir, name);
	atexit(eco_cleanup);
	/* decl.c sends the caller's environment along and looks interpreters up in PATH:
	 * a small fixed one, the same on every machine (and no CI environment to copy into
	 * every request, which cost a tenth of the time). */
	clearenv();
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("NODE_ENV", "development", 1);
	setenv("PORT", "3000", 1);
	setenv("TEND_READY_FD", "9", 1);
}

/* What decl_normalize promised for one app that it accepted: one JSON object, strict
 * enough for the JSONC checker, with a name app_name_problem passes and an absolute
 * cwd. The name is the one decl_name gives (what `tend stop FILE` and --only go by),
 * unless the app appends the environment's name to it. */
static void eco_check_app(const struct buf *out, const char *declared)
{
	size_t n = out->len;
	char *text = xstrndup(out->data ? out->data : "", n);
	struct jdoc d;
	FUZZ_ASSERT(json_parse(&d, text, n) && d.tok[0].type == JSMN_OBJECT);
	FUZZ_ASSERT(json_next(&d, 0) == d.ntok);
	char *name = json_dup(&d, json_get(&d, 0, "name"));
	FUZZ_ASSERT(name);
	if (declared)
		FUZZ_ASSERT(!strcmp(name, declared));
	/* the one rule for names (util.c), and the part of it files depend on */
	FUZZ_ASSERT(app_name_problem(name) == NULL);
	FUZZ_ASSERT(*name && strlen(name) <= 200 && !strchr(name, '/'));
	char *cwd = json_dup(&d, json_get(&d, 0, "cwd"));
	FUZZ_ASSERT(cwd && cwd[0] == '/');
	FUZZ_ASSERT(json_is_str(&d, json_get(&d, 0, "script")));
	free(name);
	free(cwd);
	json_free(&d);
	FUZZ_ASSERT(jsonc_clean(text, n, NULL, 0));
	free(text);
}

/* Returns the number of apps loaded (0 when the file was refused). */
static int eco_run(const uint8_t *data, size_t size)
{
	int fd = open(eco_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	FUZZ_ASSERT(fd >= 0 && write_all(fd, data, size) && close(fd) == 0);
	struct eco e;
	char err[512];
	err[0] = 0;
	/* A file that is not JSON goes to node (as PM2 reads it): a process per input,
	 * and node's parser is not ours to fuzz. With no node in PATH, eco_load gives
	 * JSON's own message instead; the apps' interpreters are looked up afterwards. */
	setenv("PATH", "/nonexistent", 1);
	bool loaded = eco_load(eco_file, &e, err, sizeof err);
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	if (!loaded) {
		FUZZ_ASSERT(err[0] != 0);
		/* The applets die here; freeing what was loaded so far must be safe too. */
		eco_free(&e);
		return 0;
	}
	FUZZ_ASSERT(e.napps >= 1 && e.apps);
	int napps = e.napps;
	/* The command line's options go over every app, as in eco_append_apps. */
	static const char over_text[] = "{\"namespace\":\"fuzz\"}";
	struct jdoc over;
	FUZZ_ASSERT(json_parse(&over, over_text, sizeof over_text - 1));
	for (int i = 0; i < e.napps && i < 16; i++) {
		FUZZ_ASSERT(e.apps[i] >= 0 && e.apps[i] < e.doc.ntok);
		char *declared = decl_name(&e.doc, e.apps[i]);
		bool appends = json_get(&e.doc, e.apps[i], "append_env_to_name") >= 0 ||
		               json_get(&e.doc, e.apps[i], "appendEnvToName") >= 0;
		/* strict: the lenient path warns once per unknown key name, remembering the
		 * names for the life of the process, which suits a command but fills stderr
		 * and a growing list over millions of inputs. */
		struct decl_opts o = {.where = "fuzz: apps[0]", .base_dir = e.dir,
		                      .env_name = "production", .shell_env = true, .strict = true};
		struct buf out = {0};
		char why[512];
		why[0] = 0;
		if (decl_normalize(&e.doc, e.apps[i], &over, 0, &o, &out, why, sizeof why))
			eco_check_app(&out, appends ? NULL : declared);
		else
			FUZZ_ASSERT(why[0] != 0);
		buf_free(&out);
		free(declared);
		/* The same object as a restart's options: the members it changes. */
		why[0] = 0;
		if (decl_changes(&e.doc, e.apps[i], &o, &out, why, sizeof why)) {
			struct buf obj = {0};
			json_open(&obj, '{');
			buf_add(&obj, out.data ? out.data : "", out.len);
			json_close(&obj, '}');
			struct jdoc d;
			FUZZ_ASSERT(json_parse(&d, obj.data, obj.len) && d.tok[0].type == JSMN_OBJECT);
			json_free(&d);
			FUZZ_ASSERT(jsonc_clean(obj.data, obj.len, NULL, 0));
			buf_free(&obj);
		} else {
			FUZZ_ASSERT(why[0] != 0);
		}
		buf_free(&out);
	}
	json_free(&over);
	eco_free(&e);
	return napps;
}

#endif
