/* The five OE group files: parsing (from untrusted bytes: fuzzed) and the
 * longest-prefix lookup that both decisions stand on. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "policy-private.h"

G_DEFINE_QUARK (ipsecd - policy - error - quark, policy_error)

static const char *const group_names[POLICY_N_GROUPS] = {
  "block", "clear", "clear-or-private", "private-or-clear", "private",
};

const char *
policy_group_to_string (PolicyGroup group)
{
  return group < POLICY_N_GROUPS ? group_names[group] : NULL;
}

gboolean
policy_group_from_string (const char *name, PolicyGroup *group)
{
  for (guint i = 0; i < POLICY_N_GROUPS; i++)
    if (g_strcmp0 (name, group_names[i]) == 0)
      {
        *group = i;
        return TRUE;
      }
  return FALSE;
}

PolicyGroups *
policy_groups_new (void)
{
  PolicyGroups *groups = g_new0 (PolicyGroups, 1);
  groups->entries = g_array_new (FALSE, TRUE, sizeof (PolicyEntry));
  return groups;
}

void
policy_groups_free (PolicyGroups *groups)
{
  if (groups == NULL)
    return;
  g_array_unref (groups->entries);
  g_free (groups);
}

guint
policy_groups_get_n_entries (const PolicyGroups *groups)
{
  return groups->entries->len;
}

const PolicyEntry *
policy_groups_get_entry (const PolicyGroups *groups, guint i)
{
  g_return_val_if_fail (i < groups->entries->len, NULL);
  return &g_array_index (groups->entries, PolicyEntry, i);
}

/* ---- One line ---- */

static const struct
{
  const char *name;
  guint8 number;
} protocols[] = {
  { "icmp", IPPROTO_ICMP },        { "tcp", IPPROTO_TCP },       { "udp", IPPROTO_UDP },
  { "ipv6-icmp", IPPROTO_ICMPV6 }, { "icmpv6", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP },
};

static gboolean
parse_proto (const char *text, guint8 *proto)
{
  guint64 n;
  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (g_ascii_strcasecmp (text, protocols[i].name) == 0)
      {
        *proto = protocols[i].number;
        return TRUE;
      }
  if (!g_ascii_string_to_unsigned (text, 10, 0, 255, &n, NULL))
    return FALSE;
  *proto = n;
  return TRUE;
}

static gboolean
parse_port (const char *text, guint16 *port)
{
  guint64 n;
  if (!g_ascii_string_to_unsigned (text, 10, 0, 65535, &n, NULL))
    return FALSE;
  *port = n;
  return TRUE;
}

/* Ports only mean something to the kernel's selector for these. */
static gboolean
proto_has_ports (guint8 proto)
{
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

char *
policy_entry_format (const PolicyEntry *entry)
{
  g_autofree char *net = xfrm_addr_to_string (&entry->net);
  const char *proto = NULL;

  if (entry->proto == 0)
    return g_strdup_printf ("%s/%u", net, entry->prefix_len);
  for (guint i = 0; i < G_N_ELEMENTS (protocols) && proto == NULL; i++)
    if (protocols[i].number == entry->proto)
      proto = protocols[i].name;
  if (proto != NULL)
    return g_strdup_printf ("%s/%u %s %u %u", net, entry->prefix_len, proto, entry->sport,
                            entry->dport);
  return g_strdup_printf ("%s/%u %u %u %u", net, entry->prefix_len, entry->proto, entry->sport,
                          entry->dport);
}

void
policy_prefix_mask (XfrmAddr *addr, guint prefix_len)
{
  guint bits = xfrm_addr_host_bits (addr->family);
  for (guint i = prefix_len; i < bits; i++)
    addr->bytes[i / 8] &= ~(0x80u >> (i % 8));
}

static char *
parse_selector_fields (char **fields, PolicyEntry *entry)
{
  if (!parse_proto (fields[1], &entry->proto))
    return g_strdup_printf ("bad protocol \"%s\"", fields[1]);
  if (!parse_port (fields[2], &entry->sport) || !parse_port (fields[3], &entry->dport))
    return g_strdup_printf ("bad port \"%s\" or \"%s\" (0-65535)", fields[2], fields[3]);
  if ((entry->sport || entry->dport) && !proto_has_ports (entry->proto))
    return g_strdup_printf ("ports with protocol %u, which has none", entry->proto);
  return NULL;
}

/* NULL and @entry filled, or what is wrong with @text. */
static char *
parse_line (const char *text, PolicyEntry *entry)
{
  g_auto (GStrv) fields = g_strsplit_set (text, " \t", -1);
  g_autoptr (GError) error = NULL;
  char *kept[5] = { NULL };
  guint n = 0;

  for (guint i = 0; fields[i] != NULL; i++)
    if (*fields[i] != '\0')
      {
        if (n == 4)
          return g_strdup ("too many fields (expected CIDR [PROTO SPORT DPORT])");
        kept[n++] = fields[i];
      }
  if (n != 1 && n != 4)
    return g_strdup ("expected CIDR or CIDR PROTO SPORT DPORT");
  if (!xfrm_prefix_parse (kept[0], &entry->net, &entry->prefix_len, &error))
    return g_strdup_printf ("bad CIDR \"%s\"", kept[0]);
  policy_prefix_mask (&entry->net, entry->prefix_len);
  return n == 4 ? parse_selector_fields (kept, entry) : NULL;
}

static gboolean
entry_same_selector (const PolicyEntry *a, const PolicyEntry *b)
{
  return xfrm_addr_equal (&a->net, &b->net) && a->prefix_len == b->prefix_len
         && a->proto == b->proto && a->sport == b->sport && a->dport == b->dport;
}

static const PolicyEntry *
find_same (const PolicyGroups *groups, const PolicyEntry *entry)
{
  for (guint i = 0; i < groups->entries->len; i++)
    {
      const PolicyEntry *other = &g_array_index (groups->entries, PolicyEntry, i);
      if (entry_same_selector (entry, other))
        return other;
    }
  return NULL;
}

/* The text of line @text (comment cut, NUL-free) into @groups, or a problem. */
static char *
add_line (PolicyGroups *groups, PolicyGroup group, char *text, guint line)
{
  PolicyEntry entry = { .group = group, .line = line };
  char *problem;
  const PolicyEntry *same;

  problem = parse_line (text, &entry);
  if (problem != NULL)
    return problem;
  same = find_same (groups, &entry);
  if (same != NULL)
    /* The kernel holds one policy per selector; the first listing wins
     * (policy_groups_load reads the protective groups first). */
    return g_strdup_printf ("already listed in %s line %u", group_names[same->group], same->line);
  g_array_append_val (groups->entries, entry);
  return NULL;
}

/* One line (without its newline) into @groups; NULL or the problem. */
static char *
parse_raw_line (PolicyGroups *groups, PolicyGroup group, const char *data, gsize len, guint line)
{
  g_autofree char *text = NULL;
  char *hash;

  /* g_strndup would stop at a NUL and accept what comes before it. */
  if (memchr (data, '\0', len) != NULL)
    return g_strdup ("a NUL byte");
  text = g_strndup (data, len);
  hash = strchr (text, '#');
  if (hash != NULL)
    *hash = '\0';
  g_strstrip (g_strdelimit (text, "\r", ' '));
  if (*text == '\0')
    return NULL;
  return add_line (groups, group, text, line);
}

guint
policy_groups_parse (PolicyGroups *groups, PolicyGroup group, const char *filename,
                     const char *data, gsize len, GPtrArray *problems)
{
  guint before = groups->entries->len, line = 0;
  gsize pos = 0;

  g_return_val_if_fail (group < POLICY_N_GROUPS, 0);
  while (pos < len)
    {
      const char *nl = memchr (data + pos, '\n', len - pos);
      gsize end = nl ? (gsize) (nl - data) : len;
      g_autofree char *problem = parse_raw_line (groups, group, data + pos, end - pos, ++line);

      pos = end + 1;
      if (problem != NULL && problems != NULL)
        g_ptr_array_add (problems, g_strdup_printf ("%s:%u: %s", filename, line, problem));
    }
  return groups->entries->len - before;
}

/* Protective groups first: when a CIDR is listed twice, the first wins. */
static const PolicyGroup load_order[POLICY_N_GROUPS] = {
  POLICY_GROUP_BLOCK,
  POLICY_GROUP_PRIVATE,
  POLICY_GROUP_PRIVATE_OR_CLEAR,
  POLICY_GROUP_CLEAR_OR_PRIVATE,
  POLICY_GROUP_CLEAR,
};

PolicyGroups *
policy_groups_load (const char *dir, GPtrArray *problems, GError **error)
{
  g_autoptr (PolicyGroups) groups = policy_groups_new ();

  for (guint i = 0; i < POLICY_N_GROUPS; i++)
    {
      PolicyGroup group = load_order[i];
      g_autofree char *path = g_build_filename (dir, "policies", group_names[group], NULL);
      g_autofree char *data = NULL;
      g_autoptr (GError) local = NULL;
      gsize len;

      if (!g_file_get_contents (path, &data, &len, &local))
        {
          if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            continue;
          g_set_error (error, POLICY_ERROR, POLICY_ERROR_FAILED, "%s", local->message);
          return NULL;
        }
      policy_groups_parse (groups, group, path, data, len, problems);
    }
  return g_steal_pointer (&groups);
}

/* ---- Lookup ---- */

static gboolean
prefix_contains (const XfrmAddr *net, guint prefix_len, const XfrmAddr *addr)
{
  XfrmAddr masked = *addr;
  if (net->family != addr->family)
    return FALSE;
  policy_prefix_mask (&masked, prefix_len);
  return xfrm_addr_equal (net, &masked);
}

static gboolean
entry_matches_flow (const PolicyEntry *e, guint8 proto, guint16 sport, guint16 dport)
{
  return (e->proto == 0 || e->proto == proto) && (e->sport == 0 || e->sport == sport)
         && (e->dport == 0 || e->dport == dport);
}

/* Same order as the kernel's: what policy_priority ranks first. */
static gboolean
entry_beats (const PolicyEntry *a, const PolicyEntry *b)
{
  if (b == NULL || a->prefix_len != b->prefix_len)
    return b == NULL || a->prefix_len > b->prefix_len;
  return a->proto != 0 && b->proto == 0;
}

const PolicyEntry *
policy_groups_lookup (const PolicyGroups *groups, const XfrmAddr *remote, guint8 proto,
                      guint16 sport, guint16 dport)
{
  const PolicyEntry *best = NULL;

  for (guint i = 0; i < groups->entries->len; i++)
    {
      const PolicyEntry *e = &g_array_index (groups->entries, PolicyEntry, i);
      if (prefix_contains (&e->net, e->prefix_len, remote)
          && entry_matches_flow (e, proto, sport, dport) && entry_beats (e, best))
        best = e;
    }
  return best;
}
