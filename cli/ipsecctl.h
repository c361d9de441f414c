/* ipsecctl: one file per command; each fills in an IpsecctlCommand. */
#pragma once

#include <glib.h>

typedef struct
{
  gboolean json;
} IpsecctlOptions;

typedef int (*IpsecctlRunFunc) (const IpsecctlOptions *options, int argc, char **argv);

typedef struct
{
  const char *name;
  const char *summary;
  IpsecctlRunFunc run;
} IpsecctlCommand;

/* Exit codes, documented in ipsecctl(1). */
enum
{
  IPSECCTL_EXIT_OK = 0,
  IPSECCTL_EXIT_FAILURE = 1,
  IPSECCTL_EXIT_USAGE = 2,
};

int ipsecctl_cmd_version (const IpsecctlOptions *options, int argc, char **argv);
