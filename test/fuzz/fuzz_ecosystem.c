/* Ecosystem files as `tend start ecosystem.json` reads them: JSONC checked and
 * cleaned, the apps found ({"apps": [...]}, "pm2", an array, one app), and each app
 * checked and normalized into the daemon's keys by decl.c (types, units, aliases,
 * camelCase, env_NAME, paths resolved against the file's directory). */
#include "eco.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	eco_setup("ecosystem.json");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eco_run(data, size);
	return 0;
}
