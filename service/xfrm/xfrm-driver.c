/* The XfrmDriver interface: argument checks and the operations built from
 * the vtable's (flush, probe), shared by the real driver and the fake; plus
 * addresses and the larval-drop sysctl. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "ike-types.h"
#include "xfrm-msg.h"

G_DEFINE_QUARK (xfrm - error - quark, xfrm_error)

#define XFRM_LARVAL_DROP_PATH "/proc/sys/net/core/xfrm_larval_drop"

gboolean
xfrm_reqid_is_ours (guint32 reqid)
{
  return reqid >= XFRM_REQID_MIN && reqid <= XFRM_REQID_MAX;
}

gboolean
xfrm_index_is_ours (guint32 index)
{
  return (index & XFRM_INDEX_TAG_MASK) == XFRM_INDEX_TAG;
}

/* ---- Addresses ---- */

guint
xfrm_addr_host_bits (int family)
{
  return family == AF_INET6 ? 128 : 32;
}

gboolean
xfrm_addr_parse (const char *text, XfrmAddr *addr, GError **error)
{
  memset (addr, 0, sizeof *addr);
  if (inet_pton (AF_INET, text, addr->bytes) == 1)
    addr->family = AF_INET;
  else if (inet_pton (AF_INET6, text, addr->bytes) == 1)
    addr->family = AF_INET6;
  else
    {
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID, "not an IP address: %s", text);
      return FALSE;
    }
  return TRUE;
}

gboolean
xfrm_prefix_parse (const char *text, XfrmAddr *addr, guint8 *prefix_len, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", 2);
  guint64 len;
  if (!xfrm_addr_parse (parts[0], addr, error))
    return FALSE;
  *prefix_len = xfrm_addr_host_bits (addr->family);
  if (parts[1] == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (parts[1], 10, 0, *prefix_len, &len, NULL))
    {
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID, "bad prefix length: %s", text);
      return FALSE;
    }
  *prefix_len = len;
  return TRUE;
}

void
xfrm_addr_from_sockaddr (const struct sockaddr_storage *sa, XfrmAddr *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->family = sa->ss_family;
  if (sa->ss_family == AF_INET)
    memcpy (addr->bytes, &((const struct sockaddr_in *) sa)->sin_addr, 4);
  else if (sa->ss_family == AF_INET6)
    memcpy (addr->bytes, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
  else
    addr->family = 0;
}

char *
xfrm_addr_to_string (const XfrmAddr *addr)
{
  char text[INET6_ADDRSTRLEN];
  if (addr->family != AF_INET && addr->family != AF_INET6)
    return g_strdup ("any");
  return g_strdup (inet_ntop (addr->family, addr->bytes, text, sizeof text));
}

gboolean
xfrm_addr_equal (const XfrmAddr *a, const XfrmAddr *b)
{
  gsize len = a->family == AF_INET ? 4 : 16;
  return a->family == b->family && memcmp (a->bytes, b->bytes, len) == 0;
}

void
xfrm_selector_host_pair (XfrmSelector *sel, const XfrmAddr *src, const XfrmAddr *dst)
{
  memset (sel, 0, sizeof *sel);
  sel->src = *src;
  sel->dst = *dst;
  sel->src_prefix = sel->dst_prefix = xfrm_addr_host_bits (src->family);
}

gboolean
xfrm_selector_equal (const XfrmSelector *a, const XfrmSelector *b)
{
  return xfrm_addr_equal (&a->src, &b->src) && xfrm_addr_equal (&a->dst, &b->dst)
         && a->src_prefix == b->src_prefix && a->dst_prefix == b->dst_prefix && a->proto == b->proto
         && a->sport == b->sport && a->dport == b->dport;
}

char *
xfrm_selector_to_string (const XfrmSelector *sel)
{
  g_autofree char *src = xfrm_addr_to_string (&sel->src);
  g_autofree char *dst = xfrm_addr_to_string (&sel->dst);
  return g_strdup_printf ("%s/%u[%u] -> %s/%u[%u] proto %u", src, sel->src_prefix, sel->sport, dst,
                          sel->dst_prefix, sel->dport, sel->proto);
}

const char *
xfrm_action_to_string (XfrmAction action)
{
  static const char *const names[] = { "trap", "pass", "drop", "ipsec" };
  return action < G_N_ELEMENTS (names) ? names[action] : "?";
}

const char *
xfrm_event_kind_to_string (XfrmEventKind kind)
{
  static const char *const names[] = { "acquire", "expire", "polexpire", "mapping" };
  return kind < G_N_ELEMENTS (names) ? names[kind] : "?";
}

/* ---- The interface ---- */

void
xfrm_driver_free (XfrmDriver *driver)
{
  if (driver != NULL)
    driver->klass->free (driver);
}

const char *
xfrm_driver_get_name (XfrmDriver *driver)
{
  return driver->klass->name;
}

gboolean
xfrm_driver_alloc_spi (XfrmDriver *driver, const XfrmAddr *src, const XfrmAddr *dst, XfrmMode mode,
                       guint32 reqid, guint32 min, guint32 max, guint32 *spi, GError **error)
{
  if (src->family != dst->family || (src->family != AF_INET && src->family != AF_INET6)
      || !xfrm_reqid_is_ours (reqid) || min == 0 || min > max)
    {
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID,
                   "invalid SPI request (addresses, reqid or range)");
      return FALSE;
    }
  return driver->klass->alloc_spi (driver, src, dst, mode, reqid, min, max, spi, error);
}

gboolean
xfrm_driver_add_sa (XfrmDriver *driver, const XfrmSa *sa, GError **error)
{
  return xfrm_msg_check_sa (sa, error) && driver->klass->add_sa (driver, sa, FALSE, error);
}

gboolean
xfrm_driver_update_sa (XfrmDriver *driver, const XfrmSa *sa, GError **error)
{
  return xfrm_msg_check_sa (sa, error) && driver->klass->add_sa (driver, sa, TRUE, error);
}

gboolean
xfrm_driver_delete_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, GError **error)
{
  return driver->klass->delete_sa (driver, dst, spi, error);
}

gboolean
xfrm_driver_get_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, XfrmSaInfo *info,
                    GError **error)
{
  return driver->klass->get_sa (driver, dst, spi, info, error);
}

GArray *
xfrm_driver_list_sas (XfrmDriver *driver, GError **error)
{
  return driver->klass->list_sas (driver, error);
}

gboolean
xfrm_driver_add_policy (XfrmDriver *driver, XfrmPolicy *policy, GError **error)
{
  return xfrm_msg_check_policy (policy, error)
         && driver->klass->add_policy (driver, policy, FALSE, error);
}

gboolean
xfrm_driver_update_policy (XfrmDriver *driver, XfrmPolicy *policy, GError **error)
{
  return xfrm_msg_check_policy (policy, error)
         && driver->klass->add_policy (driver, policy, TRUE, error);
}

gboolean
xfrm_driver_delete_policy (XfrmDriver *driver, const XfrmSelector *sel, XfrmDir dir, GError **error)
{
  return xfrm_msg_check_selector (sel, error)
         && driver->klass->delete_policy (driver, sel, dir, error);
}

GArray *
xfrm_driver_list_policies (XfrmDriver *driver, GError **error)
{
  return driver->klass->list_policies (driver, error);
}

gboolean
xfrm_driver_set_event_func (XfrmDriver *driver, XfrmEventFunc func, gpointer user_data,
                            GError **error)
{
  g_return_val_if_fail (driver->event_func == NULL, FALSE);
  driver->event_func = func;
  driver->event_data = user_data;
  return driver->klass->subscribe (driver, error);
}

/* Policies first, so that no packet meets a policy whose SA just went. */
static gboolean
xfrm_driver_flush_policies (XfrmDriver *driver, guint *count, GError **error)
{
  g_autoptr (GArray) policies = xfrm_driver_list_policies (driver, error);
  if (policies == NULL)
    return FALSE;
  for (guint i = 0; i < policies->len; i++)
    {
      const XfrmPolicy *p = &g_array_index (policies, XfrmPolicy, i);
      g_autoptr (GError) local = NULL;
      if (!driver->klass->delete_policy (driver, &p->sel, p->dir, &local)
          && !g_error_matches (local, XFRM_ERROR, XFRM_ERROR_NOT_FOUND))
        return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
      (*count)++;
    }
  return TRUE;
}

static gboolean
xfrm_driver_flush_sas (XfrmDriver *driver, guint *count, GError **error)
{
  g_autoptr (GArray) sas = xfrm_driver_list_sas (driver, error);
  if (sas == NULL)
    return FALSE;
  for (guint i = 0; i < sas->len; i++)
    {
      const XfrmSaInfo *info = &g_array_index (sas, XfrmSaInfo, i);
      g_autoptr (GError) local = NULL;
      if (!xfrm_driver_delete_sa (driver, &info->sa.dst, info->sa.spi, &local)
          && !g_error_matches (local, XFRM_ERROR, XFRM_ERROR_NOT_FOUND))
        return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
      (*count)++;
    }
  return TRUE;
}

gboolean
xfrm_driver_flush (XfrmDriver *driver, guint *n_policies, guint *n_sas, GError **error)
{
  guint policies = 0, sas = 0;
  gboolean ok = xfrm_driver_flush_policies (driver, &policies, error)
                && xfrm_driver_flush_sas (driver, &sas, error);
  if (n_policies != NULL)
    *n_policies = policies;
  if (n_sas != NULL)
    *n_sas = sas;
  return ok;
}

/* AES-CBC with HMAC-SHA256: the most widely built ESP transform, so a
 * failure says "no ESP" rather than "no AEAD".  Loopback addresses: the SA
 * never carries a packet, and lives a few microseconds. */
gboolean
xfrm_driver_probe_esp (XfrmDriver *driver, GError **error)
{
  static const guint8 key[32] = { 1 };
  XfrmSa sa = { .mode = XFRM_TRANSPORT,
                .reqid = XFRM_REQID_MAX,
                .encr = IKE_ENCR_AES_CBC,
                .key_bits = 128,
                .integ = IKE_INTEG_HMAC_SHA2_256_128,
                .encr_key = key,
                .encr_key_len = 16,
                .integ_key = key,
                .integ_key_len = 32 };
  xfrm_addr_parse ("127.0.0.1", &sa.src, NULL);
  sa.dst = sa.src;
  for (guint tries = 0; tries < 4; tries++)
    {
      g_autoptr (GError) local = NULL;
      sa.spi = g_random_int_range (0x100, G_MAXINT32);
      if (xfrm_driver_add_sa (driver, &sa, &local))
        return xfrm_driver_delete_sa (driver, &sa.dst, sa.spi, error);
      if (!g_error_matches (local, XFRM_ERROR, XFRM_ERROR_EXISTS))
        return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
    }
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_FAILED, "could not probe ESP: every SPI was taken");
  return FALSE;
}

/* ---- net.core.xfrm_larval_drop ---- */

gboolean
xfrm_larval_drop_get (gboolean *drop, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (XFRM_LARVAL_DROP_PATH, &text, NULL, error))
    return FALSE;
  *drop = g_strstrip (text)[0] != '0';
  return TRUE;
}

gboolean
xfrm_larval_drop_set (gboolean drop, GError **error)
{
  int fd = open (XFRM_LARVAL_DROP_PATH, O_WRONLY | O_CLOEXEC);
  int saved;
  if (fd < 0 || write (fd, drop ? "1\n" : "0\n", 2) != 2)
    {
      saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, XFRM_ERROR,
                   saved == EACCES || saved == EPERM ? XFRM_ERROR_PERMISSION : XFRM_ERROR_FAILED,
                   "cannot set %s: %s", XFRM_LARVAL_DROP_PATH, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}
