#include "ipsec-error.h"

#include <gio/gio.h>

#include "ipsec-names.h"

#define IPSEC_ERROR_PREFIX IPSEC_BUS_NAME ".Error."

static const GDBusErrorEntry ipsec_error_entries[] = {
  { IPSEC_ERROR_FAILED, IPSEC_ERROR_PREFIX "Failed" },
  { IPSEC_ERROR_INVALID_SETTING, IPSEC_ERROR_PREFIX "InvalidSetting" },
  { IPSEC_ERROR_NOT_FOUND, IPSEC_ERROR_PREFIX "NotFound" },
  { IPSEC_ERROR_EXISTS, IPSEC_ERROR_PREFIX "Exists" },
  { IPSEC_ERROR_NOT_AUTHORIZED, IPSEC_ERROR_PREFIX "NotAuthorized" },
  { IPSEC_ERROR_CAN_OBTAIN, IPSEC_ERROR_PREFIX "CanObtain" },
  { IPSEC_ERROR_KERNEL_UNSUPPORTED, IPSEC_ERROR_PREFIX "KernelUnsupported" },
  { IPSEC_ERROR_PEER, IPSEC_ERROR_PREFIX "Peer" },
  { IPSEC_ERROR_WEAK_SECRET, IPSEC_ERROR_PREFIX "WeakSecret" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (ipsec_error_entries) == IPSEC_ERROR_N_CODES);

GQuark
ipsec_error_quark (void)
{
  static gsize quark;

  /* Registering the domain is what makes GDBus translate both ways. */
  g_dbus_error_register_error_domain ("ipsec-error-quark", &quark, ipsec_error_entries,
                                      G_N_ELEMENTS (ipsec_error_entries));
  return (GQuark) quark;
}
