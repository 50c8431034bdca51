/* Declarations of every applet entry point and help text, from the generated table. */
#ifndef TEND_APPLET_H
#define TEND_APPLET_H

#define APPLET(name, fn, help, flags, summary) int fn(int, char **); extern const char help[];
#include "applets.h"
#undef APPLET

#endif
