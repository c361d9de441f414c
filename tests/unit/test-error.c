/* The error domain must survive a trip through D-Bus names both ways, or a
 * client would see a generic error instead of e.g. InvalidSetting. */
#include <gio/gio.h>

#include "ipsec-error.h"

static void
test_error_names (void)
{
  static const struct
  {
    IpsecError code;
    const char *name;
  } cases[] = {
    { IPSEC_ERROR_FAILED, "org.libreswan.IPsec.Error.Failed" },
    { IPSEC_ERROR_INVALID_SETTING, "org.libreswan.IPsec.Error.InvalidSetting" },
    { IPSEC_ERROR_NOT_FOUND, "org.libreswan.IPsec.Error.NotFound" },
    { IPSEC_ERROR_EXISTS, "org.libreswan.IPsec.Error.Exists" },
    { IPSEC_ERROR_NOT_AUTHORIZED, "org.libreswan.IPsec.Error.NotAuthorized" },
    { IPSEC_ERROR_CAN_OBTAIN, "org.libreswan.IPsec.Error.CanObtain" },
    { IPSEC_ERROR_KERNEL_UNSUPPORTED, "org.libreswan.IPsec.Error.KernelUnsupported" },
    { IPSEC_ERROR_PEER, "org.libreswan.IPsec.Error.Peer" },
    { IPSEC_ERROR_WEAK_SECRET, "org.libreswan.IPsec.Error.WeakSecret" },
  };

  g_assert_cmpuint (G_N_ELEMENTS (cases), ==, IPSEC_ERROR_N_CODES);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = g_error_new_literal (IPSEC_ERROR, cases[i].code, "why");
      g_autofree char *name = g_dbus_error_encode_gerror (error);
      g_autoptr (GError) back = g_dbus_error_new_for_dbus_error (cases[i].name, "why");

      g_assert_cmpstr (name, ==, cases[i].name);
      g_assert_error (back, IPSEC_ERROR, (int) cases[i].code);
      /* Clients strip the remote marker and show the daemon's words. */
      g_assert_true (g_dbus_error_strip_remote_error (back));
      g_assert_cmpstr (back->message, ==, "why");
    }
}

static void
test_error_unknown_name (void)
{
  g_autoptr (GError) error
      = g_dbus_error_new_for_dbus_error ("org.libreswan.IPsec.Error.NoSuchThing", "x");

  (void) IPSEC_ERROR; /* register the domain first */
  g_assert_false (error->domain == IPSEC_ERROR);
  g_assert_true (g_dbus_error_is_remote_error (error));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/error/names", test_error_names);
  g_test_add_func ("/error/unknown-name", test_error_unknown_name);
  return g_test_run ();
}
