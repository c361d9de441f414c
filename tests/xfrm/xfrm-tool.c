/* xfrm-tool: the XFRM driver from the command line, for the netns and vm
 * tests.  Every command goes through the real driver (xfrm.h), never through
 * `ip xfrm`, so the tests check our code against what iproute2 reads back.
 *
 *   xfrm-tool COMMAND key=value...
 *
 *   probe
 *   alloc-spi src= dst= reqid= [min= max= mode=]
 *   add-sa | update-sa src= dst= spi= reqid= encr= [bits=] [integ=] ekey=HEX [ikey=HEX]
 *          [mode=tunnel|transport] [window=] [esn=1] [sport= dport=] (UDP encapsulation)
 *          [soft-bytes= hard-bytes= soft-packets= hard-packets= soft-seconds= hard-seconds=]
 *          [sel-src=PREFIX sel-dst=PREFIX]
 *   get-sa dst= spi=            prints "bytes=N packets=N reqid=R encr=E integ=I"
 *   del-sa dst= spi=
 *   add-policy | update-policy dir=in|out|fwd src=PREFIX dst=PREFIX action=trap|pass|drop|ipsec
 *          [prio=] [proto= sport= dport=] [mode=] [tmpl-src= tmpl-dst=] [reqid=]
 *          [soft-seconds= hard-seconds=]             prints "index=0x..."
 *   del-policy dir= src= dst= [proto= sport= dport=]
 *   list-policies | list-sas | flush
 *   watch [count=1] [timeout=10]   prints "ready", then one line per event
 *   larval-drop [value=0|1]        prints the value (after setting it)
 *   encap-socket [port=4500] [family=4|6]   holds net/'s NAT-T socket (UDP_ENCAP
 *          and a per-socket bypass policy, as the daemon's) until killed; prints
 *          "ready" once bound
 *
 * Exit status: 0 done, 1 failed (the XfrmError's name on stderr), 2 usage. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net-socket.h"
#include "xfrm.h"

typedef struct
{
  GHashTable *args;
  XfrmDriver *driver;
  GMainLoop *loop;
  guint64 events_left;
} Tool;

static const char *const error_names[] = {
  "FAILED",    "NO_ESP",   "NO_ALG",     "INVALID",     "EXISTS",
  "NOT_FOUND", "NOT_OURS", "PERMISSION", "UNSUPPORTED",
};

static const char *
arg (Tool *tool, const char *key, const char *fallback)
{
  const char *value = g_hash_table_lookup (tool->args, key);
  return value ? value : fallback;
}

static guint64
arg_num (Tool *tool, const char *key, guint64 fallback)
{
  const char *value = arg (tool, key, NULL);
  return value ? g_ascii_strtoull (value, NULL, 0) : fallback;
}

static gboolean
arg_addr (Tool *tool, const char *key, XfrmAddr *addr, GError **error)
{
  const char *value = arg (tool, key, NULL);
  memset (addr, 0, sizeof *addr);
  if (value == NULL)
    {
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID, "%s= is missing", key);
      return FALSE;
    }
  return xfrm_addr_parse (value, addr, error);
}

static guint8 *
arg_hex (Tool *tool, const char *key, gsize *len)
{
  const char *value = arg (tool, key, NULL);
  *len = 0;
  if (value == NULL)
    return NULL;
  if (g_str_has_prefix (value, "0x"))
    value += 2;
  gsize n = strlen (value) / 2;
  guint8 *out = g_malloc0 (n + 1);
  for (gsize i = 0; i < n; i++)
    out[i] = g_ascii_xdigit_value (value[2 * i]) << 4 | g_ascii_xdigit_value (value[2 * i + 1]);
  *len = n;
  return out;
}

static XfrmMode
arg_mode (Tool *tool)
{
  return g_str_equal (arg (tool, "mode", "transport"), "tunnel") ? XFRM_TUNNEL : XFRM_TRANSPORT;
}

static gboolean
arg_selector (Tool *tool, XfrmSelector *sel, const char *src_key, const char *dst_key,
              GError **error)
{
  memset (sel, 0, sizeof *sel);
  if (!xfrm_prefix_parse (arg (tool, src_key, "0.0.0.0/0"), &sel->src, &sel->src_prefix, error)
      || !xfrm_prefix_parse (arg (tool, dst_key, "0.0.0.0/0"), &sel->dst, &sel->dst_prefix, error))
    return FALSE;
  sel->proto = arg_num (tool, "proto", 0);
  sel->sport = arg_num (tool, "sport", 0);
  sel->dport = arg_num (tool, "dport", 0);
  return TRUE;
}

/* ---- Commands ---- */

static gboolean
cmd_alloc_spi (Tool *tool, GError **error)
{
  XfrmAddr src, dst;
  guint32 spi;
  if (!arg_addr (tool, "src", &src, error) || !arg_addr (tool, "dst", &dst, error)
      || !xfrm_driver_alloc_spi (
          tool->driver, &src, &dst, arg_mode (tool), arg_num (tool, "reqid", XFRM_REQID_MIN),
          arg_num (tool, "min", 0x100), arg_num (tool, "max", 0xffffffff), &spi, error))
    return FALSE;
  g_print ("spi=0x%08x\n", spi);
  return TRUE;
}

static void
fill_life (Tool *tool, XfrmLifetime *life)
{
  life->soft_bytes = arg_num (tool, "soft-bytes", 0);
  life->hard_bytes = arg_num (tool, "hard-bytes", 0);
  life->soft_packets = arg_num (tool, "soft-packets", 0);
  life->hard_packets = arg_num (tool, "hard-packets", 0);
  life->soft_seconds = arg_num (tool, "soft-seconds", 0);
  life->hard_seconds = arg_num (tool, "hard-seconds", 0);
}

static gboolean
cmd_add_sa (Tool *tool, gboolean update, GError **error)
{
  g_autofree guint8 *ekey = NULL, *ikey = NULL;
  XfrmSa sa = { 0 };
  if (!arg_addr (tool, "src", &sa.src, error) || !arg_addr (tool, "dst", &sa.dst, error))
    return FALSE;
  if (arg (tool, "sel-src", NULL) && !arg_selector (tool, &sa.sel, "sel-src", "sel-dst", error))
    return FALSE;
  sa.spi = arg_num (tool, "spi", 0);
  sa.reqid = arg_num (tool, "reqid", XFRM_REQID_MIN);
  sa.mode = arg_mode (tool);
  sa.encr = arg_num (tool, "encr", 0);
  sa.key_bits = arg_num (tool, "bits", 0);
  sa.integ = arg_num (tool, "integ", 0);
  sa.esn = arg_num (tool, "esn", 0) != 0;
  sa.replay_window = arg_num (tool, "window", 0);
  sa.encap_sport = arg_num (tool, "sport", 0);
  sa.encap_dport = arg_num (tool, "dport", 0);
  sa.encr_key = ekey = arg_hex (tool, "ekey", &sa.encr_key_len);
  sa.integ_key = ikey = arg_hex (tool, "ikey", &sa.integ_key_len);
  fill_life (tool, &sa.life);
  return update ? xfrm_driver_update_sa (tool->driver, &sa, error)
                : xfrm_driver_add_sa (tool->driver, &sa, error);
}

static gboolean
cmd_get_sa (Tool *tool, GError **error)
{
  XfrmAddr dst;
  XfrmSaInfo info;
  if (!arg_addr (tool, "dst", &dst, error)
      || !xfrm_driver_get_sa (tool->driver, &dst, arg_num (tool, "spi", 0), &info, error))
    return FALSE;
  g_print ("bytes=%" G_GUINT64_FORMAT " packets=%" G_GUINT64_FORMAT
           " reqid=0x%08x encr=%u bits=%u integ=%u esn=%d window=%u encap=%u/%u\n",
           info.stats.bytes, info.stats.packets, info.sa.reqid, info.sa.encr, info.sa.key_bits,
           info.sa.integ, info.sa.esn, info.sa.replay_window, info.sa.encap_sport,
           info.sa.encap_dport);
  return TRUE;
}

static gboolean
cmd_del_sa (Tool *tool, GError **error)
{
  XfrmAddr dst;
  return arg_addr (tool, "dst", &dst, error)
         && xfrm_driver_delete_sa (tool->driver, &dst, arg_num (tool, "spi", 0), error);
}

static gboolean
parse_dir (Tool *tool, XfrmDir *dir, GError **error)
{
  const char *text = arg (tool, "dir", "out");
  *dir = g_str_equal (text, "in")    ? XFRM_DIR_IN
         : g_str_equal (text, "fwd") ? XFRM_DIR_FWD
                                     : XFRM_DIR_OUT;
  return TRUE;
}

static gboolean
parse_action (Tool *tool, XfrmAction *action, GError **error)
{
  const char *text = arg (tool, "action", "");
  for (XfrmAction a = XFRM_ACTION_TRAP; a <= XFRM_ACTION_IPSEC; a++)
    if (g_str_equal (text, xfrm_action_to_string (a)))
      return *action = a, TRUE;
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID, "unknown action '%s'", text);
  return FALSE;
}

static gboolean
cmd_add_policy (Tool *tool, gboolean update, GError **error)
{
  XfrmPolicy p = { 0 };
  if (!parse_dir (tool, &p.dir, error) || !parse_action (tool, &p.action, error)
      || !arg_selector (tool, &p.sel, "src", "dst", error))
    return FALSE;
  p.priority = arg_num (tool, "prio", 0);
  p.mode = arg_mode (tool);
  p.reqid = arg_num (tool, "reqid", 0);
  p.soft_seconds = arg_num (tool, "soft-seconds", 0);
  p.hard_seconds = arg_num (tool, "hard-seconds", 0);
  if ((arg (tool, "tmpl-src", NULL) && !arg_addr (tool, "tmpl-src", &p.tmpl_src, error))
      || (arg (tool, "tmpl-dst", NULL) && !arg_addr (tool, "tmpl-dst", &p.tmpl_dst, error)))
    return FALSE;
  if (!(update ? xfrm_driver_update_policy (tool->driver, &p, error)
               : xfrm_driver_add_policy (tool->driver, &p, error)))
    return FALSE;
  g_print ("index=0x%08x\n", p.index);
  return TRUE;
}

static gboolean
cmd_del_policy (Tool *tool, GError **error)
{
  XfrmSelector sel;
  XfrmDir dir;
  return parse_dir (tool, &dir, error) && arg_selector (tool, &sel, "src", "dst", error)
         && xfrm_driver_delete_policy (tool->driver, &sel, dir, error);
}

static gboolean
cmd_list (Tool *tool, gboolean policies, GError **error)
{
  g_autoptr (GArray) list = policies ? xfrm_driver_list_policies (tool->driver, error)
                                     : xfrm_driver_list_sas (tool->driver, error);
  if (list == NULL)
    return FALSE;
  for (guint i = 0; i < list->len; i++)
    {
      if (policies)
        {
          const XfrmPolicy *p = &g_array_index (list, XfrmPolicy, i);
          g_autofree char *sel = xfrm_selector_to_string (&p->sel);
          g_print ("policy index=0x%08x dir=%u action=%s prio=%u reqid=0x%08x %s\n", p->index,
                   p->dir, xfrm_action_to_string (p->action), p->priority, p->reqid, sel);
        }
      else
        {
          const XfrmSa *sa = &g_array_index (list, XfrmSaInfo, i).sa;
          g_autofree char *dst = xfrm_addr_to_string (&sa->dst);
          g_print ("sa dst=%s spi=0x%08x reqid=0x%08x encr=%u\n", dst, sa->spi, sa->reqid,
                   sa->encr);
        }
    }
  return TRUE;
}

static gboolean
cmd_flush (Tool *tool, GError **error)
{
  guint policies, sas;
  if (!xfrm_driver_flush (tool->driver, &policies, &sas, error))
    return FALSE;
  g_print ("flushed policies=%u sas=%u\n", policies, sas);
  return TRUE;
}

/* ---- Events ---- */

static void
print_event (const XfrmEvent *ev, gpointer data)
{
  Tool *tool = data;
  g_autofree char *sel = xfrm_selector_to_string (&ev->sel);
  g_autofree char *src = xfrm_addr_to_string (&ev->src);
  g_autofree char *dst = xfrm_addr_to_string (&ev->dst);
  g_autofree char *new_addr = xfrm_addr_to_string (&ev->new_addr);
  g_print ("%s src=%s dst=%s proto=%u sport=%u dport=%u reqid=0x%08x index=0x%08x dir=%u "
           "spi=0x%08x hard=%d new=%s:%u old-port=%u sel=[%s]\n",
           xfrm_event_kind_to_string (ev->kind), src, dst, ev->sel.proto, ev->sel.sport,
           ev->sel.dport, ev->reqid, ev->policy_index, ev->dir, ev->spi, ev->hard, new_addr,
           ev->new_port, ev->old_port, sel);
  fflush (stdout);
  if (--tool->events_left == 0)
    g_main_loop_quit (tool->loop);
}

static gboolean
watch_timeout (gpointer data)
{
  Tool *tool = data;
  g_printerr ("timeout waiting for events\n");
  g_main_loop_quit (tool->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
cmd_watch (Tool *tool, GError **error)
{
  tool->events_left = arg_num (tool, "count", 1);
  tool->loop = g_main_loop_new (NULL, FALSE);
  if (!xfrm_driver_set_event_func (tool->driver, print_event, tool, error))
    return FALSE;
  g_timeout_add_seconds (arg_num (tool, "timeout", 10), watch_timeout, tool);
  g_print ("ready\n");
  fflush (stdout);
  g_main_loop_run (tool->loop);
  g_main_loop_unref (tool->loop);
  return tool->events_left == 0;
}

static gboolean
cmd_larval_drop (Tool *tool, GError **error)
{
  gboolean drop;
  if (arg (tool, "value", NULL) && !xfrm_larval_drop_set (arg_num (tool, "value", 1), error))
    return FALSE;
  if (!xfrm_larval_drop_get (&drop, error))
    return FALSE;
  g_print ("%d\n", drop);
  return TRUE;
}

/* ESP in UDP reaches the kernel's decapsulation only through a socket with
 * UDP_ENCAP on the port, and that socket needs a bypass policy: the kernel
 * checks the inbound policy on the UDP datagram before decapsulating it. */
static gboolean
cmd_encap_socket (Tool *tool, GError **error)
{
  int family = arg_num (tool, "family", 4) == 6 ? AF_INET6 : AF_INET;
  g_autoptr (NetSocket) sock = net_socket_new (family, arg_num (tool, "port", 4500), TRUE, error);
  if (sock == NULL)
    return FALSE;
  g_print ("ready\n");
  fflush (stdout);
  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return TRUE;
}

static gboolean
run (Tool *tool, const char *command, GError **error)
{
  if (g_str_equal (command, "probe"))
    return xfrm_driver_probe_esp (tool->driver, error);
  if (g_str_equal (command, "alloc-spi"))
    return cmd_alloc_spi (tool, error);
  if (g_str_has_suffix (command, "-sa") && !g_str_equal (command, "get-sa")
      && !g_str_equal (command, "del-sa"))
    return cmd_add_sa (tool, g_str_equal (command, "update-sa"), error);
  if (g_str_equal (command, "get-sa"))
    return cmd_get_sa (tool, error);
  if (g_str_equal (command, "del-sa"))
    return cmd_del_sa (tool, error);
  if (g_str_equal (command, "add-policy") || g_str_equal (command, "update-policy"))
    return cmd_add_policy (tool, g_str_equal (command, "update-policy"), error);
  if (g_str_equal (command, "del-policy"))
    return cmd_del_policy (tool, error);
  if (g_str_has_prefix (command, "list-"))
    return cmd_list (tool, g_str_equal (command, "list-policies"), error);
  if (g_str_equal (command, "flush"))
    return cmd_flush (tool, error);
  if (g_str_equal (command, "watch"))
    return cmd_watch (tool, error);
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID, "unknown command %s", command);
  return FALSE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Tool tool = { args, NULL, NULL, 0 };
  if (argc < 2)
    {
      g_printerr ("usage: xfrm-tool COMMAND key=value...\n");
      return 2;
    }
  for (int i = 2; i < argc; i++)
    {
      g_auto (GStrv) kv = g_strsplit (argv[i], "=", 2);
      if (kv[0] == NULL || kv[1] == NULL)
        return g_printerr ("bad argument '%s'\n", argv[i]), 2;
      g_hash_table_insert (args, g_strdup (kv[0]), g_strdup (kv[1]));
    }
  if (g_str_equal (argv[1], "encap-socket"))
    return cmd_encap_socket (&tool, &error) ? 0 : (g_printerr ("error: %s\n", error->message), 1);
  if (g_str_equal (argv[1], "larval-drop"))
    return cmd_larval_drop (&tool, &error) ? 0 : (g_printerr ("error: %s\n", error->message), 1);
  tool.driver = xfrm_netlink_new (&error);
  if (tool.driver != NULL && run (&tool, argv[1], &error))
    return xfrm_driver_free (tool.driver), 0;
  if (error != NULL)
    g_printerr ("error %s: %s\n",
                error->code < (int) G_N_ELEMENTS (error_names) ? error_names[error->code] : "?",
                error->message);
  xfrm_driver_free (tool.driver);
  return 1;
}
