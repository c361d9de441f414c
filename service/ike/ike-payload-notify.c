/* Notify payload (RFC 7296 §3.10) and the notification data whose shape
 * RFCs define: a table of data lengths per notify type, with a checker for
 * the structured ones (REDIRECT, SIGNATURE_HASH_ALGORITHMS).  Unknown
 * notify types carry any data: the engine ignores unknown status notifies. */
#include "ike-payload-private.h"

#define NOTIFY_HEADER_LEN 4
#define ANY G_MAXUINT16
#define GW_HEADER_LEN 2

typedef gboolean (*NotifyDataCheck) (const guint8 *data, gsize len, gsize rel, IkeCheck *check);

static gboolean check_redirect (const guint8 *data, gsize len, gsize rel, IkeCheck *check);
static gboolean check_redirected_from (const guint8 *data, gsize len, gsize rel, IkeCheck *check);
static gboolean check_hash_list (const guint8 *data, gsize len, gsize rel, IkeCheck *check);

/* clang-format off */
static const struct
{
  guint16 type;
  guint16 min, max; /* notification data length */
  NotifyDataCheck check;
} notify_rules[] = {
  { IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD,     1,  1 },   /* the payload type */
  { IKE_N_INVALID_MESSAGE_ID,               4,  4 },
  { IKE_N_INVALID_KE_PAYLOAD,               2,  2 },   /* the group wanted */
  { IKE_N_INITIAL_CONTACT,                  0,  0 },
  { IKE_N_SET_WINDOW_SIZE,                  4,  4 },
  { IKE_N_IPCOMP_SUPPORTED,                 3,  ANY }, /* CPI, transform, ... */
  { IKE_N_NAT_DETECTION_SOURCE_IP,          IKE_NAT_DETECTION_LEN, IKE_NAT_DETECTION_LEN },
  { IKE_N_NAT_DETECTION_DESTINATION_IP,     IKE_NAT_DETECTION_LEN, IKE_NAT_DETECTION_LEN },
  { IKE_N_COOKIE,                           1,  IKE_COOKIE_MAX_LEN },
  { IKE_N_USE_TRANSPORT_MODE,               0,  0 },
  { IKE_N_HTTP_CERT_LOOKUP_SUPPORTED,       0,  0 },
  { IKE_N_REKEY_SA,                         0,  0 },   /* the SPI says which */
  { IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED,    0,  0 },
  { IKE_N_NON_FIRST_FRAGMENTS_ALSO,         0,  0 },
  { IKE_N_MOBIKE_SUPPORTED,                 0,  0 },
  { IKE_N_ADDITIONAL_IP4_ADDRESS,           4,  4 },
  { IKE_N_ADDITIONAL_IP6_ADDRESS,           16, 16 },
  { IKE_N_NO_ADDITIONAL_ADDRESSES,          0,  0 },
  { IKE_N_UPDATE_SA_ADDRESSES,              0,  0 },
  { IKE_N_COOKIE2,                          8,  64 },  /* RFC 4555 §3.12 */
  { IKE_N_AUTH_LIFETIME,                    4,  4 },   /* RFC 4478 */
  { IKE_N_MULTIPLE_AUTH_SUPPORTED,          0,  0 },
  { IKE_N_ANOTHER_AUTH_FOLLOWS,             0,  0 },
  { IKE_N_REDIRECT_SUPPORTED,               0,  0 },
  { IKE_N_REDIRECT,                         GW_HEADER_LEN, ANY, check_redirect },
  { IKE_N_REDIRECTED_FROM,                  GW_HEADER_LEN, ANY, check_redirected_from },
  { IKE_N_EAP_ONLY_AUTHENTICATION,          0,  0 },
  { IKE_N_CHILDLESS_IKEV2_SUPPORTED,        0,  0 },
  { IKE_N_IKEV2_FRAGMENTATION_SUPPORTED,    0,  0 },
  { IKE_N_SIGNATURE_HASH_ALGORITHMS,        2,  ANY, check_hash_list },
  { IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED,  0,  0 },
};
/* clang-format on */

/* ---- Structured data ---- */

/* RFC 5685 §4: the gateway identity's length must fit its type. */
static gboolean
gw_length_ok (guint8 type, guint8 len)
{
  switch (type)
    {
    case IKE_GW_IDENT_IPV4:
      return len == 4;
    case IKE_GW_IDENT_IPV6:
      return len == 16;
    default:
      return len >= 1;
    }
}

static gboolean
check_gw (const guint8 *data, gsize len, gsize rel, IkeCheck *check)
{
  if (GW_HEADER_LEN + (gsize) data[1] > len)
    return ike_check_fail (check, rel + 1, "gateway identity of %u bytes overruns the data",
                           data[1]);
  if (!gw_length_ok (data[0], data[1]))
    return ike_check_fail (check, rel, "gateway identity type %u with %u bytes", data[0], data[1]);
  return TRUE;
}

static gboolean
check_redirect (const guint8 *data, gsize len, gsize rel, IkeCheck *check)
{
  return check_gw (data, len, rel, check); /* a nonce may follow */
}

static gboolean
check_redirected_from (const guint8 *data, gsize len, gsize rel, IkeCheck *check)
{
  if (!check_gw (data, len, rel, check))
    return FALSE;
  if (len != GW_HEADER_LEN + (gsize) data[1])
    return ike_check_fail (check, rel + GW_HEADER_LEN + data[1],
                           "%zu bytes after the gateway identity", len - GW_HEADER_LEN - data[1]);
  return TRUE;
}

static gboolean
check_hash_list (const guint8 *data, gsize len, gsize rel, IkeCheck *check)
{
  if (len % 2 != 0)
    return ike_check_fail (check, rel, "odd length %zu for a list of 16-bit hash algorithms", len);
  return TRUE;
}

/* ---- The payload ---- */

static gboolean
check_data (guint16 type, const guint8 *data, gsize len, gsize rel, IkeCheck *check)
{
  for (gsize i = 0; i < G_N_ELEMENTS (notify_rules); i++)
    {
      if (notify_rules[i].type != type)
        continue;
      if (len < notify_rules[i].min || len > notify_rules[i].max)
        return ike_check_fail (check, rel, "%s with %zu bytes of data, %u..%u allowed",
                               ike_notify_name (type), len, notify_rules[i].min,
                               notify_rules[i].max);
      return notify_rules[i].check == NULL || notify_rules[i].check (data, len, rel, check);
    }
  return TRUE;
}

gboolean
ike_notify_validate (const IkeRaw *raw, IkeCheck *check)
{
  guint8 spi_len = raw->body[1];
  gsize data_at = NOTIFY_HEADER_LEN + spi_len;

  if (data_at > raw->body_len)
    return ike_check_fail (check, 1, "SPI of %u bytes overruns the payload", spi_len);
  return check_data (ike_get16 (raw->body + 2), raw->body + data_at, raw->body_len - data_at,
                     data_at, check);
}

void
ike_notify_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  gsize data_at = NOTIFY_HEADER_LEN + raw->body[1];

  out->u.notify = (IkePayloadNotify){
    .protocol = raw->body[0],
    .spi = ike_slice (raw->body + NOTIFY_HEADER_LEN, raw->body[1]),
    .type = ike_get16 (raw->body + 2),
    .data = ike_slice (raw->body + data_at, raw->body_len - data_at),
  };
}

gboolean
ike_notify_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  const IkePayloadNotify *n = &payload->u.notify;

  if (n->spi.len > G_MAXUINT8)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX, "notify SPI of %zu bytes",
                   n->spi.len);
      return FALSE;
    }
  ike_put8 (out, n->protocol);
  ike_put8 (out, n->spi.len);
  ike_put16 (out, n->type);
  ike_put_slice (out, n->spi);
  ike_put_slice (out, n->data);
  return TRUE;
}

/* ---- Accessors and encoders for callers ---- */

gboolean
ike_notify_get_redirect (const IkePayloadNotify *notify, IkeRedirect *redirect)
{
  const guint8 *d = notify->data.data;
  gsize len = notify->data.len;

  if (len < GW_HEADER_LEN || GW_HEADER_LEN + (gsize) d[1] > len || !gw_length_ok (d[0], d[1]))
    return FALSE;
  redirect->gw_type = d[0];
  redirect->gw = ike_slice (d + GW_HEADER_LEN, d[1]);
  redirect->nonce = ike_slice (d + GW_HEADER_LEN + d[1], len - GW_HEADER_LEN - d[1]);
  return TRUE;
}

GBytes *
ike_notify_data_redirect (const IkeRedirect *redirect)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_return_val_if_fail (redirect->gw.len <= G_MAXUINT8, NULL);
  ike_put8 (out, redirect->gw_type);
  ike_put8 (out, redirect->gw.len);
  ike_put_slice (out, redirect->gw);
  ike_put_slice (out, redirect->nonce);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

gboolean
ike_notify_get_u16 (const IkePayloadNotify *notify, guint16 *value)
{
  if (notify->data.len != 2)
    return FALSE;
  *value = ike_get16 (notify->data.data);
  return TRUE;
}

GBytes *
ike_notify_data_u16 (guint16 value)
{
  guint8 b[2];

  ike_set16 (b, value);
  return g_bytes_new (b, sizeof b);
}

guint
ike_notify_get_hash_algorithms (const IkePayloadNotify *notify, guint16 *algs, guint max)
{
  guint n = notify->data.len / 2;

  for (guint i = 0; i < n && i < max; i++)
    algs[i] = ike_get16 (notify->data.data + 2 * i);
  return n;
}

GBytes *
ike_notify_data_hash_algorithms (const guint16 *algs, guint n)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  for (guint i = 0; i < n; i++)
    ike_put16 (out, algs[i]);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
