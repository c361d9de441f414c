/* Configuration payload (RFC 7296 §3.15, RFC 8598 DNS domains): a type and
 * attributes.  Lengths of the attributes RFC 7296 defines are checked
 * against §3.15.1's table; an empty value is a request. */
#include "ike-payload-private.h"

#define CP_HEADER_LEN 4
#define ATTR_HEADER_LEN 4
#define ATTR_TYPE_MASK 0x7fff /* the top bit is reserved */
#define ANY 0xffff

/* clang-format off */
static const struct
{
  guint16 type;
  guint16 len;    /* the value's length when not empty; ANY: not fixed */
  guint16 modulo; /* for ANY: the length must be a multiple of this */
} attr_rules[] = {
  { IKE_CFG_INTERNAL_IP4_ADDRESS,  4,  0 },
  { IKE_CFG_INTERNAL_IP4_NETMASK,  4,  0 },
  { IKE_CFG_INTERNAL_IP4_DNS,      4,  0 },
  { IKE_CFG_INTERNAL_IP4_NBNS,     4,  0 },
  { IKE_CFG_INTERNAL_IP4_DHCP,     4,  0 },
  { IKE_CFG_APPLICATION_VERSION,   ANY, 1 },
  { IKE_CFG_INTERNAL_IP6_ADDRESS,  17, 0 }, /* address, prefix length */
  { IKE_CFG_INTERNAL_IP6_DNS,      16, 0 },
  { IKE_CFG_INTERNAL_IP6_DHCP,     16, 0 },
  { IKE_CFG_INTERNAL_IP4_SUBNET,   8,  0 }, /* address, netmask */
  { IKE_CFG_SUPPORTED_ATTRIBUTES,  ANY, 2 }, /* 16-bit attribute types */
  { IKE_CFG_INTERNAL_IP6_SUBNET,   17, 0 },
  { IKE_CFG_INTERNAL_DNS_DOMAIN,   ANY, 1 },
};
/* clang-format on */

static gboolean
attr_length_ok (guint16 type, gsize len)
{
  for (gsize i = 0; i < G_N_ELEMENTS (attr_rules); i++)
    {
      if (attr_rules[i].type != type)
        continue;
      if (len == 0)
        return TRUE;
      if (attr_rules[i].len == ANY)
        return len % attr_rules[i].modulo == 0;
      return len == attr_rules[i].len;
    }
  return TRUE;
}

static gboolean
check_attr (const guint8 *p, gsize left, gsize rel, IkeCheck *check)
{
  guint16 type, len;

  if (left < ATTR_HEADER_LEN)
    return ike_check_fail (check, rel, "truncated configuration attribute");
  type = ike_get16 (p) & ATTR_TYPE_MASK;
  len = ike_get16 (p + 2);
  if (len > left - ATTR_HEADER_LEN)
    return ike_check_fail (check, rel, "attribute of %u bytes overruns the payload", len);
  if (!attr_length_ok (type, len))
    return ike_check_fail (check, rel, "%s of %u bytes", ike_cfg_attr_name (type), len);
  return TRUE;
}

gboolean
ike_cp_validate (const IkeRaw *raw, IkeCheck *check)
{
  gsize pos = CP_HEADER_LEN;
  guint n = 0;

  while (pos < raw->body_len)
    {
      if (n == IKE_MAX_CFG_ATTRS)
        return ike_check_fail (check, pos, "more than %u attributes", IKE_MAX_CFG_ATTRS);
      if (!check_attr (raw->body + pos, raw->body_len - pos, pos, check))
        return FALSE;
      pos += ATTR_HEADER_LEN + ike_get16 (raw->body + pos + 2);
      n++;
    }
  return TRUE;
}

void
ike_cp_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  IkeCfgAttr *attrs;
  guint n = 0;
  gsize pos;

  for (pos = CP_HEADER_LEN; pos < raw->body_len; n++)
    pos += ATTR_HEADER_LEN + ike_get16 (raw->body + pos + 2);
  attrs = ike_arena_alloc (arena, n, sizeof (IkeCfgAttr));
  pos = CP_HEADER_LEN;
  for (guint i = 0; i < n; i++)
    {
      const guint8 *p = raw->body + pos;

      attrs[i].type = ike_get16 (p) & ATTR_TYPE_MASK;
      attrs[i].value = ike_slice (p + ATTR_HEADER_LEN, ike_get16 (p + 2));
      pos += ATTR_HEADER_LEN + attrs[i].value.len;
    }
  out->u.cp = (IkePayloadCp){ .type = raw->body[0], .n_attrs = n, .attrs = attrs };
}

gboolean
ike_cp_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  const IkePayloadCp *cp = &payload->u.cp;

  ike_put8 (out, cp->type);
  ike_put_zero (out, CP_HEADER_LEN - 1);
  for (guint i = 0; i < cp->n_attrs; i++)
    {
      if (cp->attrs[i].value.len > G_MAXUINT16)
        {
          g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG, "attribute of %zu bytes",
                       cp->attrs[i].value.len);
          return FALSE;
        }
      ike_put16 (out, cp->attrs[i].type & ATTR_TYPE_MASK);
      ike_put16 (out, cp->attrs[i].value.len);
      ike_put_slice (out, cp->attrs[i].value);
    }
  return TRUE;
}
