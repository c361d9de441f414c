/* Writes the sample messages to files, for judges outside this process.
 *
 *   ike-codec-emit pcap DIR   every message the builder makes, and every
 *                             inner chain in a test-only cleartext message,
 *                             as DIR/NAME.bin, plus DIR/manifest.txt with
 *                             one line per file: NAME.bin FIELD=V,V ...
 *                             (what tshark's FIELD must list, in order)
 *   ike-codec-emit seeds MSG-DIR INNER-DIR
 *                             fuzz seeds: messages as they are; inner chains
 *                             as the first payload type, then the chain */
#include <glib.h>
#include <stdlib.h>

#include "ike-samples.h"

static gboolean
write_file (const char *dir, const char *name, GBytes *bytes, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                              error);
}

/* tshark fields and what we expect in each, in tshark's order.  Every
 * field is written for every file, empty when absent, so that tshark
 * seeing something we did not build fails as well. */
static const char *const fields[] = {
  "isakmp.exchangetype",
  "isakmp.messageid",
  "isakmp.length",
  "isakmp.typepayload",
  "isakmp.prop.number",
  "isakmp.prop.protoid",
  "isakmp.tf.type",
  "isakmp.key_exchange.dh_group",
  "isakmp.id.type",
  "isakmp.cert.encoding",
  "isakmp.certreq.type",
  "isakmp.auth.method",
  "isakmp.notify.protoid",
  "isakmp.notify.msgtype",
  "isakmp.delete.protoid",
  "isakmp.ts.type",
  "isakmp.ts.start_port",
  "isakmp.ts.end_port",
  "isakmp.cfg.type",
  "isakmp.cfg.attr.type",
  "eap.code",
  "isakmp.frag.number",
  "isakmp.frag.total",
  "isakmp.extradata",
};

typedef struct
{
  GString *values[G_N_ELEMENTS (fields)];
} Expect;

static void
put (Expect *e, const char *field, guint value)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (g_str_equal (fields[i], field))
      {
        g_string_append_printf (e->values[i], "%s%u", e->values[i]->len ? "," : "", value);
        return;
      }
  g_assert_not_reached ();
}

static void
expect_sa (Expect *e, const IkePayloadSa *sa)
{
  for (guint i = 0; i < sa->n_proposals; i++)
    {
      const IkeProposal *prop = &sa->proposals[i];

      put (e, "isakmp.typepayload", 2);
      put (e, "isakmp.prop.number", prop->number);
      put (e, "isakmp.prop.protoid", prop->protocol);
      for (guint t = 0; t < prop->n_transforms; t++)
        {
          put (e, "isakmp.typepayload", 3);
          put (e, "isakmp.tf.type", prop->transforms[t].type);
        }
    }
}

static void
expect_ts (Expect *e, const IkePayloadTs *ts)
{
  for (guint i = 0; i < ts->n_ts; i++)
    {
      put (e, "isakmp.ts.type", ts->ts[i].type);
      if (ts->ts[i].type != IKE_TS_IPV4_ADDR_RANGE && ts->ts[i].type != IKE_TS_IPV6_ADDR_RANGE)
        continue;
      put (e, "isakmp.ts.start_port", ts->ts[i].start_port);
      put (e, "isakmp.ts.end_port", ts->ts[i].end_port);
    }
}

static void
expect_payload (Expect *e, const IkePayload *p)
{
  put (e, "isakmp.typepayload", p->type);
  if (p->skipped)
    return;
  switch (p->type)
    {
    case IKE_PAYLOAD_SA:
      expect_sa (e, &p->u.sa);
      break;
    case IKE_PAYLOAD_KE:
      put (e, "isakmp.key_exchange.dh_group", p->u.ke.group);
      break;
    case IKE_PAYLOAD_IDI:
    case IKE_PAYLOAD_IDR:
      put (e, "isakmp.id.type", p->u.id.type);
      break;
    case IKE_PAYLOAD_CERT:
      put (e, "isakmp.cert.encoding", p->u.cert.encoding);
      break;
    case IKE_PAYLOAD_CERTREQ:
      put (e, "isakmp.certreq.type", p->u.cert.encoding);
      break;
    case IKE_PAYLOAD_AUTH:
      put (e, "isakmp.auth.method", p->u.auth.method);
      break;
    case IKE_PAYLOAD_NOTIFY:
      put (e, "isakmp.notify.protoid", p->u.notify.protocol);
      put (e, "isakmp.notify.msgtype", p->u.notify.type);
      break;
    case IKE_PAYLOAD_DELETE:
      put (e, "isakmp.delete.protoid", p->u.del.protocol);
      break;
    case IKE_PAYLOAD_TSI:
    case IKE_PAYLOAD_TSR:
      expect_ts (e, &p->u.ts);
      break;
    case IKE_PAYLOAD_CP:
      put (e, "isakmp.cfg.type", p->u.cp.type);
      for (guint i = 0; i < p->u.cp.n_attrs; i++)
        put (e, "isakmp.cfg.attr.type", p->u.cp.attrs[i].type);
      break;
    case IKE_PAYLOAD_EAP:
      put (e, "eap.code", p->u.eap.code);
      break;
    case IKE_PAYLOAD_SKF:
      put (e, "isakmp.frag.number", p->u.skf.number);
      put (e, "isakmp.frag.total", p->u.skf.total);
      break;
    default:
      break;
    }
}

/* One manifest line: FILE FIELD=V,V FIELD= ... */
static void
manifest_line (GString *manifest, const char *file, const IkeHeader *h, const IkePayload *const *p,
               guint n)
{
  Expect e;

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    e.values[i] = g_string_new (NULL);
  put (&e, "isakmp.exchangetype", h->exchange);
  put (&e, "isakmp.messageid", h->message_id);
  put (&e, "isakmp.length", h->length);
  for (guint i = 0; i < n; i++)
    expect_payload (&e, p[i]);
  g_string_append (manifest, file);
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_string_append_printf (manifest, " %s=%s", fields[i], e.values[i]->str);
      g_string_free (e.values[i], TRUE);
    }
  g_string_append_c (manifest, '\n');
}

static gboolean
emit_message (const char *dir, GString *manifest, const char *file, GBytes *bytes, gboolean clear,
              GError **error)
{
  g_autoptr (IkeMsg) msg = NULL;
  g_autoptr (IkeInner) inner = NULL;
  g_autoptr (GPtrArray) payloads = g_ptr_array_new ();
  IkeHeader h;

  if (!write_file (dir, file, bytes, error))
    return FALSE;
  /* A cleartext AUTH does not parse as a message (that is the point), so
   * test-only messages are read as header + inner chain. */
  if (!ike_header_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &h, NULL, error))
    return FALSE;
  if (clear)
    {
      g_autoptr (GBytes) chain = g_bytes_new_from_bytes (bytes, IKE_HEADER_LEN,
                                                         g_bytes_get_size (bytes) - IKE_HEADER_LEN);

      inner = ike_inner_parse (chain, h.next_payload, NULL, error);
      for (guint i = 0; inner && i < ike_inner_get_n_payloads (inner); i++)
        g_ptr_array_add (payloads, (gpointer) ike_inner_get_payload (inner, i));
    }
  else
    {
      msg = ike_msg_parse (bytes, NULL, error);
      for (guint i = 0; msg && i < ike_msg_get_n_payloads (msg); i++)
        g_ptr_array_add (payloads, (gpointer) ike_msg_get_payload (msg, i));
    }
  if (msg == NULL && inner == NULL)
    return FALSE;
  manifest_line (manifest, file, &h, (const IkePayload *const *) payloads->pdata, payloads->len);
  return TRUE;
}

static gboolean
emit_pcap_inputs (const char *dir, GError **error)
{
  g_autoptr (GPtrArray) messages = ike_samples_messages ();
  g_autoptr (GPtrArray) inner = ike_samples_inner ();
  g_autoptr (GString) manifest = g_string_new (NULL);
  g_autofree char *manifest_path = g_build_filename (dir, "manifest.txt", NULL);

  for (guint i = 0; i < messages->len; i++)
    {
      IkeSample *s = g_ptr_array_index (messages, i);
      g_autofree char *file = g_strconcat (s->name, ".bin", NULL);

      if (!emit_message (dir, manifest, file, s->bytes, FALSE, error))
        return FALSE;
    }
  for (guint i = 0; i < inner->len; i++)
    {
      IkeSample *s = g_ptr_array_index (inner, i);
      g_autofree char *file = g_strconcat ("clear-", s->name, ".bin", NULL);
      g_autoptr (GBytes) bytes = ike_sample_clear_message (s);

      if (!emit_message (dir, manifest, file, bytes, TRUE, error))
        return FALSE;
    }
  return g_file_set_contents (manifest_path, manifest->str, manifest->len, error);
}

static gboolean
emit_seeds (const char *msg_dir, const char *inner_dir, GError **error)
{
  g_autoptr (GPtrArray) messages = ike_samples_messages ();
  g_autoptr (GPtrArray) inner = ike_samples_inner ();

  for (guint i = 0; i < messages->len; i++)
    {
      IkeSample *s = g_ptr_array_index (messages, i);

      if (!write_file (msg_dir, s->name, s->bytes, error))
        return FALSE;
    }
  for (guint i = 0; i < inner->len; i++)
    {
      IkeSample *s = g_ptr_array_index (inner, i);
      g_autoptr (GByteArray) seed = g_byte_array_new ();
      g_autoptr (GBytes) bytes = NULL;

      g_byte_array_append (seed, &s->first, 1);
      g_byte_array_append (seed, g_bytes_get_data (s->bytes, NULL), g_bytes_get_size (s->bytes));
      bytes = g_byte_array_free_to_bytes (g_steal_pointer (&seed));
      if (!write_file (inner_dir, s->name, bytes, error))
        return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (argc == 3 && g_str_equal (argv[1], "pcap"))
    ok = emit_pcap_inputs (argv[2], &error);
  else if (argc == 4 && g_str_equal (argv[1], "seeds"))
    ok = emit_seeds (argv[2], argv[3], &error);
  else
    {
      g_printerr ("usage: %s pcap DIR | seeds MSG-DIR INNER-DIR\n", argv[0]);
      return EXIT_FAILURE;
    }
  if (!ok)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  return EXIT_SUCCESS;
}
