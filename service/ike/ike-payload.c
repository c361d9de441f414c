/* The payload table and the chain walk.  Each row says, for one payload
 * type, how short its body may be, whether it may travel outside SK, and
 * which functions validate, parse and build it.  The walk checks the whole
 * chain against the table before the parse pass builds anything. */
#include "ike-payload-private.h"

/* clang-format off */
static const IkePayloadClass payload_classes[] = {
  /* type                name             short      min  where            validate               parse             build */
  { IKE_PAYLOAD_SA,      "SA",            "SA",      8,   IKE_WHERE_BOTH,  ike_sa_validate,       ike_sa_parse,     ike_sa_build },
  { IKE_PAYLOAD_KE,      "KE",            "KE",      5,   IKE_WHERE_BOTH,  ike_ke_validate,       ike_ke_parse,     ike_ke_build },
  { IKE_PAYLOAD_IDI,     "IDi",           "IDi",     4,   IKE_WHERE_INNER, ike_id_validate,       ike_id_parse,     ike_id_build },
  { IKE_PAYLOAD_IDR,     "IDr",           "IDr",     4,   IKE_WHERE_INNER, ike_id_validate,       ike_id_parse,     ike_id_build },
  { IKE_PAYLOAD_CERT,    "CERT",          "CERT",    2,   IKE_WHERE_INNER, ike_cert_validate,     ike_cert_parse,   ike_cert_build },
  { IKE_PAYLOAD_CERTREQ, "CERTREQ",       "CERTREQ", 1,   IKE_WHERE_BOTH,  ike_certreq_validate,  ike_cert_parse,   ike_cert_build },
  { IKE_PAYLOAD_AUTH,    "AUTH",          "AUTH",    5,   IKE_WHERE_INNER, ike_auth_validate,     ike_auth_parse,   ike_auth_build },
  { IKE_PAYLOAD_NONCE,   "NONCE",         "No",      IKE_NONCE_MIN_LEN,
                                                          IKE_WHERE_BOTH,  ike_nonce_validate,    ike_nonce_parse,  ike_nonce_build },
  { IKE_PAYLOAD_NOTIFY,  "NOTIFY",        "N",       4,   IKE_WHERE_BOTH,  ike_notify_validate,   ike_notify_parse, ike_notify_build },
  { IKE_PAYLOAD_DELETE,  "DELETE",        "D",       4,   IKE_WHERE_INNER, ike_delete_validate,   ike_delete_parse, ike_delete_build },
  { IKE_PAYLOAD_VENDOR,  "VENDOR_ID",     "V",       0,   IKE_WHERE_BOTH,  ike_vendor_validate,   ike_vendor_parse, ike_vendor_build },
  { IKE_PAYLOAD_TSI,     "TSi",           "TSi",     8,   IKE_WHERE_INNER, ike_ts_validate,       ike_ts_parse,     ike_ts_build },
  { IKE_PAYLOAD_TSR,     "TSr",           "TSr",     8,   IKE_WHERE_INNER, ike_ts_validate,       ike_ts_parse,     ike_ts_build },
  { IKE_PAYLOAD_SK,      "ENCRYPTED",     "SK",      0,   IKE_WHERE_CLEAR, ike_sk_validate,       ike_sk_parse,     NULL },
  { IKE_PAYLOAD_CP,      "CONFIGURATION", "CP",      4,   IKE_WHERE_INNER, ike_cp_validate,       ike_cp_parse,     ike_cp_build },
  { IKE_PAYLOAD_EAP,     "EAP",           "EAP",     4,   IKE_WHERE_INNER, ike_eap_validate,      ike_eap_parse,    ike_eap_build },
  { IKE_PAYLOAD_SKF,     "ENCRYPTED_FRAGMENT", "SKF", 4,  IKE_WHERE_CLEAR, ike_skf_validate,      ike_skf_parse,    NULL },
};
/* clang-format on */

const IkePayloadClass *
ike_payload_class (guint type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (payload_classes); i++)
    if (payload_classes[i].type == type)
      return &payload_classes[i];
  return NULL;
}

gboolean
ike_payload_type_is_cleartext (guint type)
{
  const IkePayloadClass *cls = ike_payload_class (type);

  return cls != NULL && (cls->where & IKE_WHERE_CLEAR);
}

const char *
ike_payload_type_name (guint type)
{
  const IkePayloadClass *cls = ike_payload_class (type);

  return cls ? cls->name : NULL;
}

const char *
ike_payload_short_name (guint type)
{
  const IkePayloadClass *cls = ike_payload_class (type);

  return cls ? cls->short_name : NULL;
}

gboolean
ike_payload_check (const IkePayloadClass *cls, const IkeRaw *raw, IkeCheck *check)
{
  if (raw->body_len < cls->min_body)
    return ike_check_fail (check, 0, "body of %zu bytes, at least %u needed", raw->body_len,
                           cls->min_body);
  return cls->validate (raw, check);
}

/* ---- Reporting ---- */

static IkeNotifyType
notify_for_error (IkeMsgError code)
{
  switch (code)
    {
    case IKE_MSG_ERROR_SYNTAX:
      return IKE_N_INVALID_SYNTAX;
    case IKE_MSG_ERROR_CRITICAL:
      return IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD;
    case IKE_MSG_ERROR_MAJOR_VERSION:
      return IKE_N_INVALID_MAJOR_VERSION;
    case IKE_MSG_ERROR_DROP:
    case IKE_MSG_ERROR_TOO_BIG:
    default:
      return 0;
    }
}

void
ike_fault_set (IkeMsgFault *fault, GError **error, IkeMsgError code, guint8 payload, guint index,
               gsize offset, const char *format, ...)
{
  g_autofree char *what = NULL;
  const char *name = ike_payload_type_name (payload);
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (fault != NULL)
    {
      *fault = (IkeMsgFault){
        .notify = notify_for_error (code), .payload = payload, .index = index, .offset = offset
      };
      if (code == IKE_MSG_ERROR_CRITICAL)
        fault->notify_data = payload;
    }
  if (payload == 0)
    g_set_error (error, IKE_MSG_ERROR, code, "IKE message at offset %zu: %s", offset, what);
  else if (name != NULL)
    g_set_error (error, IKE_MSG_ERROR, code, "%s payload #%u at offset %zu: %s", name, index,
                 offset, what);
  else
    g_set_error (error, IKE_MSG_ERROR, code, "payload #%u of type %u at offset %zu: %s", index,
                 payload, offset, what);
}

gboolean
ike_check_fail (IkeCheck *check, gsize rel, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  ike_fault_set (check->fault, check->error, IKE_MSG_ERROR_SYNTAX, check->payload, check->index,
                 check->body_offset + rel, "%s", what);
  return FALSE;
}

/* ---- Writing ---- */

void
ike_put8 (GByteArray *out, guint8 v)
{
  g_byte_array_append (out, &v, 1);
}

void
ike_put16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };

  g_byte_array_append (out, b, sizeof b);
}

void
ike_put32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

  g_byte_array_append (out, b, sizeof b);
}

void
ike_put_zero (GByteArray *out, gsize n)
{
  gsize at = out->len;

  g_byte_array_set_size (out, at + n);
  memset (out->data + at, 0, n);
}

void
ike_put_slice (GByteArray *out, IkeSlice s)
{
  if (s.len > 0)
    g_byte_array_append (out, s.data, s.len);
}

gpointer
ike_arena_alloc (GPtrArray *arena, gsize n, gsize size)
{
  gpointer mem;

  if (n == 0)
    return NULL;
  mem = g_malloc0_n (n, size);
  g_ptr_array_add (arena, mem);
  return mem;
}

/* ---- The chain walk ---- */

/* Types whose Next Payload field names the first inner payload rather than
 * a following one: they end the cleartext chain. */
static gboolean
ends_chain (guint8 type)
{
  return type == IKE_PAYLOAD_SK || type == IKE_PAYLOAD_SKF;
}

static void
raw_at (const IkeChainSrc *src, gsize pos, IkeRaw *raw)
{
  const guint8 *hdr = src->data + pos;

  *raw = (IkeRaw){ .hdr = hdr,
                   .body = hdr + IKE_PAYLOAD_HEADER_LEN,
                   .body_len = ike_get16 (hdr + 2) - IKE_PAYLOAD_HEADER_LEN,
                   .offset = pos };
}

/* The generic header at @pos: present, and its length within the buffer. */
static gboolean
check_generic (const IkeChainSrc *src, gsize pos, guint8 type, guint index, IkeMsgFault *fault,
               GError **error)
{
  gsize left = src->len - pos;
  guint16 len;

  if (index == IKE_MSG_MAX_PAYLOADS)
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, type, index, pos, "more than %u payloads",
                     IKE_MSG_MAX_PAYLOADS);
      return FALSE;
    }
  if (left < IKE_PAYLOAD_HEADER_LEN)
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, type, index, pos,
                     "%zu bytes left, no room for a payload header", left);
      return FALSE;
    }
  len = ike_get16 (src->data + pos + 2);
  if (len < IKE_PAYLOAD_HEADER_LEN || len > left)
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, type, index, pos,
                     "payload length %u outside 4..%zu", len, left);
      return FALSE;
    }
  return TRUE;
}

/* Type-level rules: known, allowed here, or skippable; then the body. */
static gboolean
check_payload (const IkeChainSrc *src, guint8 type, guint index, const IkeRaw *raw,
               IkeMsgFault *fault, GError **error)
{
  const IkePayloadClass *cls = ike_payload_class (type);
  IkeCheck check = { fault, error, type, index, raw->offset + IKE_PAYLOAD_HEADER_LEN };

  if (cls == NULL)
    {
      if (!(raw->hdr[1] & IKE_PAYLOAD_CRITICAL))
        return TRUE; /* RFC 7296 §3.2: skip it */
      ike_fault_set (fault, error, IKE_MSG_ERROR_CRITICAL, type, index, raw->offset,
                     "unknown payload type with the critical bit set");
      return FALSE;
    }
  if (!(cls->where & src->where))
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, type, index, raw->offset,
                     src->where == IKE_WHERE_CLEAR ? "only allowed inside SK (encrypted)"
                                                   : "not allowed inside SK");
      return FALSE;
    }
  return ike_payload_check (cls, raw, &check);
}

static gboolean
chain_validate (const IkeChainSrc *src, guint *count, IkeMsgFault *fault, GError **error)
{
  gsize pos = src->start;
  guint8 type = src->first;
  guint n = 0;

  while (type != IKE_PAYLOAD_NONE)
    {
      IkeRaw raw;

      if (!check_generic (src, pos, type, n, fault, error))
        return FALSE;
      raw_at (src, pos, &raw);
      if (!check_payload (src, type, n, &raw, fault, error))
        return FALSE;
      pos += IKE_PAYLOAD_HEADER_LEN + raw.body_len;
      n++;
      if (ends_chain (type) && pos != src->len)
        {
          ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, type, n - 1, raw.offset,
                         "must be the last payload, %zu bytes follow", src->len - pos);
          return FALSE;
        }
      type = ends_chain (type) ? IKE_PAYLOAD_NONE : raw.hdr[0];
    }
  if (pos != src->len)
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, 0, n, pos,
                     "%zu bytes after the last payload", src->len - pos);
      return FALSE;
    }
  *count = n;
  return TRUE;
}

gboolean
ike_chain_parse (const IkeChainSrc *src, GPtrArray *arena, IkeChain *chain, IkeMsgFault *fault,
                 GError **error)
{
  gsize pos = src->start;
  guint8 type = src->first;
  guint n;

  if (!chain_validate (src, &n, fault, error))
    return FALSE;
  chain->n = n;
  chain->payloads = ike_arena_alloc (arena, n, sizeof (IkePayload));
  for (guint i = 0; i < n; i++)
    {
      const IkePayloadClass *cls = ike_payload_class (type);
      IkePayload *p = &chain->payloads[i];
      IkeRaw raw;

      raw_at (src, pos, &raw);
      p->type = type;
      p->offset = pos;
      if (cls != NULL)
        cls->parse (&raw, arena, p);
      else
        {
          p->skipped = TRUE;
          p->u.raw = ike_slice (raw.body, raw.body_len);
        }
      pos += IKE_PAYLOAD_HEADER_LEN + raw.body_len;
      type = raw.hdr[0];
    }
  return TRUE;
}

const IkePayload *
ike_chain_find (const IkeChain *chain, guint type)
{
  for (guint i = 0; i < chain->n; i++)
    if (chain->payloads[i].type == type && !chain->payloads[i].skipped)
      return &chain->payloads[i];
  return NULL;
}

const IkePayloadNotify *
ike_chain_find_notify (const IkeChain *chain, guint16 type)
{
  for (guint i = 0; i < chain->n; i++)
    {
      const IkePayload *p = &chain->payloads[i];

      if (p->type == IKE_PAYLOAD_NOTIFY && !p->skipped && p->u.notify.type == type)
        return &p->u.notify;
    }
  return NULL;
}

static void
describe_payload (GString *out, const IkePayload *p)
{
  const char *name = p->skipped ? NULL : ike_payload_short_name (p->type);
  const char *notify;

  if (name == NULL)
    {
      g_string_append_printf (out, " UNKNOWN(%u)", p->type);
      return;
    }
  g_string_append_printf (out, " %s", name);
  if (p->type == IKE_PAYLOAD_NOTIFY)
    {
      notify = ike_notify_name (p->u.notify.type);
      if (notify != NULL)
        g_string_append_printf (out, "(%s)", notify);
      else
        g_string_append_printf (out, "(%u)", p->u.notify.type);
    }
  else if (p->type == IKE_PAYLOAD_SKF)
    g_string_append_printf (out, "(%u/%u)", p->u.skf.number, p->u.skf.total);
}

char *
ike_chain_describe (const IkeChain *chain)
{
  GString *out = g_string_new ("[");

  for (guint i = 0; i < chain->n; i++)
    describe_payload (out, &chain->payloads[i]);
  g_string_append (out, " ]");
  return g_string_free (out, FALSE);
}
