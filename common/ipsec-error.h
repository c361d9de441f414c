/* The one error domain of ipsecd.  Each code maps to the D-Bus error
 * org.libreswan.IPsec.Error.<Name>, so a GError raised deep in the daemon
 * reaches a D-Bus caller (and back into a GError in ipsecctl) unchanged. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define IPSEC_ERROR (ipsec_error_quark ())

typedef enum
{
  IPSEC_ERROR_FAILED,
  IPSEC_ERROR_INVALID_SETTING,
  IPSEC_ERROR_NOT_FOUND,
  IPSEC_ERROR_EXISTS,
  IPSEC_ERROR_NOT_AUTHORIZED,
  IPSEC_ERROR_CAN_OBTAIN,
  IPSEC_ERROR_KERNEL_UNSUPPORTED,
  IPSEC_ERROR_PEER,
  IPSEC_ERROR_WEAK_SECRET,
} IpsecError;

#define IPSEC_ERROR_N_CODES (IPSEC_ERROR_WEAK_SECRET + 1)

GQuark ipsec_error_quark (void);

G_END_DECLS
