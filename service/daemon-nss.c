/* The daemon's NSS database, sql:<state-dir>/nss, opened before anything
 * else uses NSS.  Admins manage it with certutil and pk12util exactly as
 * libreswan's /var/lib/ipsec/nss; connections name certificates in it by
 * nickname (local-cert, remote-ca, remote-cert; docs/ipsecd.conf.5.md).
 *
 * A missing database is created with an empty password (as `certutil -N
 * --empty-password` does), so that its private keys are usable without a
 * password prompt the daemon could never answer. */
#include "config.h"

#include "daemon-private.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>

static void
set_nss_error (GError **error, const char *spec, const char *what)
{
  int code = PR_GetError ();
  const char *name = PR_ErrorToName (code);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("NSS database %s: %s: %s (%s)"), spec, what,
               PORT_ErrorToString (code), name != NULL ? name : "?");
}

static gboolean
make_dir (const char *dir, GError **error)
{
  int errsv;

  if (g_mkdir_with_parents (dir, 0700) == 0)
    return TRUE;
  errsv = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               _ ("cannot create the NSS database directory %s: %s"), dir, g_strerror (errsv));
  return FALSE;
}

/* A fresh database's key slot has no password yet: give it the empty one. */
static gboolean
init_password (const char *spec, GError **error)
{
  PK11SlotInfo *slot = PK11_GetInternalKeySlot ();
  gboolean ok = TRUE;

  if (slot == NULL)
    {
      set_nss_error (error, spec, _ ("no key slot"));
      return FALSE;
    }
  if (PK11_NeedUserInit (slot) && PK11_InitPin (slot, NULL, "") != SECSuccess)
    {
      set_nss_error (error, spec, _ ("cannot set its empty password"));
      ok = FALSE;
    }
  else if (PK11_NeedLogin (slot) && !PK11_IsLoggedIn (slot, NULL))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "nss-password", "MESSAGE",
                      _ ("NSS database %s has a password: ipsecd cannot use the private keys in "
                         "it (remove the password with “certutil -W -d %s”)"),
                      spec, spec);
  PK11_FreeSlot (slot);
  return ok;
}

gboolean
ipsecd_nss_open (const char *state_dir, GError **error)
{
  g_autofree char *dir = g_build_filename (state_dir, "nss", NULL);
  g_autofree char *spec = g_strconcat ("sql:", dir, NULL);

  if (NSS_IsInitialized ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _ ("NSS database %s: NSS was initialised before it was opened"), spec);
      return FALSE;
    }
  if (!make_dir (dir, error))
    return FALSE;
  /* No root module: trust anchors are the CAs each connection names,
   * never a system store. */
  if (NSS_Initialize (spec, "", "", SECMOD_DB, NSS_INIT_NOROOTINIT) != SECSuccess)
    {
      set_nss_error (error, spec, _ ("cannot open it"));
      return FALSE;
    }
  if (!init_password (spec, error))
    return FALSE;
  g_debug ("NSS database %s open", spec);
  return TRUE;
}
