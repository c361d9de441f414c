/* Loads tests/data/golden/<scenario>.json (see golden-data.h).  JSON is
 * read with json-glib and turned into GVariant (objects a{sv}, arrays av,
 * strings s, integers x, booleans b, null mv), which the accessors below
 * check member by member. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "golden-data.h"

#ifndef IKE_GOLDEN_DIR
#error "IKE_GOLDEN_DIR must name tests/data/golden"
#endif

static GVariant *
json_parse (const char *text, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (!json_parser_load_from_data (parser, text, (gssize) len, error))
    return NULL;
  return json_gvariant_deserialize (json_parser_get_root (parser), NULL, error);
}

static const struct
{
  const char *name;
  guint8 exchange;
} exchange_names[] = {
  { "ike_sa_init", IKE_EXCHANGE_SA_INIT },
  { "ike_auth", IKE_EXCHANGE_AUTH },
  { "create_child_sa", IKE_EXCHANGE_CREATE_CHILD_SA },
  { "informational", IKE_EXCHANGE_INFORMATIONAL },
};

const char *
payload_name (guint type)
{
  static const struct
  {
    guint type;
    const char *name;
  } names[] = {
    { IKE_PAYLOAD_SA, "SA" },     { IKE_PAYLOAD_KE, "KE" },     { IKE_PAYLOAD_IDI, "IDi" },
    { IKE_PAYLOAD_IDR, "IDr" },   { IKE_PAYLOAD_CERT, "CERT" }, { IKE_PAYLOAD_CERTREQ, "CERTREQ" },
    { IKE_PAYLOAD_AUTH, "AUTH" }, { IKE_PAYLOAD_NONCE, "No" },  { IKE_PAYLOAD_NOTIFY, "N" },
    { IKE_PAYLOAD_DELETE, "D" },  { IKE_PAYLOAD_VENDOR, "V" },  { IKE_PAYLOAD_TSI, "TSi" },
    { IKE_PAYLOAD_TSR, "TSr" },   { IKE_PAYLOAD_CP, "CP" },     { IKE_PAYLOAD_EAP, "EAP" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].type == type)
      return names[i].name;
  return "?";
}

/* A member of a JSON object, of the given type: bad data ends the program
 * with a message naming the file and the key. */
static GVariant *
member (GVariant *object, const char *key, const char *type, const char *where)
{
  GVariant *value = g_variant_lookup_value (object, key, NULL);

  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
    g_error ("%s: \"%s\" is missing or not of GVariant type %s", where, key, type);
  return value;
}

static char *
member_string (GVariant *object, const char *key, const char *where)
{
  g_autoptr (GVariant) value = member (object, key, "s", where);

  return g_variant_dup_string (value, NULL);
}

static gint64
member_int (GVariant *object, const char *key, gint64 min, gint64 max, const char *where)
{
  g_autoptr (GVariant) value = member (object, key, "x", where);
  gint64 n = g_variant_get_int64 (value);

  if (n < min || n > max)
    g_error ("%s: \"%s\" = %" G_GINT64_FORMAT " is out of range", where, key, n);
  return n;
}

static gboolean
member_is_null (GVariant *object, const char *key, const char *where)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (object, key, NULL);

  if (value == NULL)
    g_error ("%s: \"%s\" is missing", where, key);
  return g_variant_is_of_type (value, G_VARIANT_TYPE ("mv"));
}

static GBytes *
member_hex (GVariant *object, const char *key, const char *where)
{
  g_autofree char *text = member_string (object, key, where);
  gsize len = strlen (text);
  g_autofree guint8 *data = g_malloc (len / 2 + 1);

  if (len % 2 != 0)
    g_error ("%s: \"%s\" has an odd number of hex digits", where, key);
  for (gsize i = 0; i < len / 2; i++)
    {
      int high = g_ascii_xdigit_value (text[2 * i]);
      int low = g_ascii_xdigit_value (text[2 * i + 1]);

      if (high < 0 || low < 0)
        g_error ("%s: \"%s\" is not hex", where, key);
      data[i] = (guint8) (high << 4 | low);
    }
  return g_bytes_new (data, len / 2);
}

static void
member_spi (GVariant *object, const char *key, guint8 spi[8], const char *where)
{
  g_autoptr (GBytes) bytes = member_hex (object, key, where);

  if (g_bytes_get_size (bytes) != 8)
    g_error ("%s: \"%s\" is not 8 bytes", where, key);
  memcpy (spi, g_bytes_get_data (bytes, NULL), 8);
}

static void
golden_sa_free (GoldenSa *sa)
{
  g_free (sa->initiator);
  g_clear_pointer (&sa->ni, g_bytes_unref);
  g_clear_pointer (&sa->nr, g_bytes_unref);
  g_clear_pointer (&sa->g_ir, g_bytes_unref);
  g_clear_pointer (&sa->skeyseed, g_bytes_unref);
  g_clear_pointer (&sa->sk_d, g_bytes_unref);
  g_clear_pointer (&sa->sk_ai, g_bytes_unref);
  g_clear_pointer (&sa->sk_ar, g_bytes_unref);
  g_clear_pointer (&sa->sk_ei, g_bytes_unref);
  g_clear_pointer (&sa->sk_er, g_bytes_unref);
  g_clear_pointer (&sa->sk_pi, g_bytes_unref);
  g_clear_pointer (&sa->sk_pr, g_bytes_unref);
  g_free (sa);
}

static void
golden_msg_free (GoldenMsg *msg)
{
  g_free (msg->file);
  g_free (msg->from);
  g_strfreev (msg->inner);
  g_clear_pointer (&msg->bytes, g_bytes_unref);
  g_free (msg->name_sender);
  g_free (msg);
}

void
scenario_free (Scenario *scenario)
{
  g_free (scenario->name);
  g_free (scenario->psk);
  g_hash_table_unref (scenario->software);
  g_ptr_array_unref (scenario->sas);
  g_ptr_array_unref (scenario->msgs);
  g_free (scenario);
}

static GoldenSa *
load_sa (GVariant *object, guint index, const char *where)
{
  GoldenSa *sa = g_new0 (GoldenSa, 1);

  sa->index = index;
  sa->rekey_of = member_is_null (object, "rekey_of", where)
                     ? -1
                     : (int) member_int (object, "rekey_of", 0, (gint64) index - 1, where);
  sa->initiator = member_string (object, "initiator", where);
  member_spi (object, "spi_i", sa->spi_i, where);
  member_spi (object, "spi_r", sa->spi_r, where);
  sa->spec.encr = (IkeEncrId) member_int (object, "encr", 1, G_MAXUINT16, where);
  sa->spec.key_bits = (guint16) member_int (object, "encr_key_bits", 0, G_MAXUINT16, where);
  sa->spec.integ = (IkeIntegId) member_int (object, "integ", 0, G_MAXUINT16, where);
  sa->prf = (IkePrfId) member_int (object, "prf", 1, G_MAXUINT16, where);
  sa->dh = (guint16) member_int (object, "dh", 1, G_MAXUINT16, where);
  sa->ni = member_hex (object, "ni", where);
  sa->nr = member_hex (object, "nr", where);
  sa->g_ir = member_hex (object, "g_ir", where);
  sa->skeyseed = member_hex (object, "skeyseed", where);
  sa->sk_d = member_hex (object, "sk_d", where);
  sa->sk_ai = member_hex (object, "sk_ai", where);
  sa->sk_ar = member_hex (object, "sk_ar", where);
  sa->sk_ei = member_hex (object, "sk_ei", where);
  sa->sk_er = member_hex (object, "sk_er", where);
  sa->sk_pi = member_hex (object, "sk_pi", where);
  sa->sk_pr = member_hex (object, "sk_pr", where);
  return sa;
}

/* <scenario>-<nn>-<exchange>-<request|response>-<sender>.bin */
static void
parse_file_name (GoldenMsg *msg, const char *scenario)
{
  g_autofree char *stem = NULL;
  g_auto (GStrv) parts = NULL;
  guint n;
  gboolean known = FALSE;

  if (!g_str_has_prefix (msg->file, scenario) || msg->file[strlen (scenario)] != '-'
      || !g_str_has_suffix (msg->file, ".bin"))
    g_error ("%s: not named <%s>-<nn>-<exchange>-<role>-<sender>.bin", msg->file, scenario);
  stem = g_strndup (msg->file + strlen (scenario) + 1,
                    strlen (msg->file) - strlen (scenario) - 1 - strlen (".bin"));
  parts = g_strsplit (stem, "-", -1);
  n = g_strv_length (parts);
  if (n != 4 || strlen (parts[0]) != 2 || !g_ascii_isdigit (parts[0][0])
      || !g_ascii_isdigit (parts[0][1]))
    g_error ("%s: not named <%s>-<nn>-<exchange>-<role>-<sender>.bin", msg->file, scenario);
  for (guint i = 0; i < G_N_ELEMENTS (exchange_names); i++)
    if (g_str_equal (parts[1], exchange_names[i].name))
      {
        msg->name_exchange = exchange_names[i].exchange;
        known = TRUE;
      }
  if (!known || !(g_str_equal (parts[2], "request") || g_str_equal (parts[2], "response")))
    g_error ("%s: unknown exchange or role in the name", msg->file);
  msg->name_response = g_str_equal (parts[2], "response");
  msg->name_sender = g_strdup (parts[3]);
}

static GoldenMsg *
load_msg (GVariant *object, Scenario *scenario, const char *where)
{
  GoldenMsg *msg = g_new0 (GoldenMsg, 1);
  g_autofree char *path = NULL;
  g_autoptr (GVariant) response = member (object, "response", "b", where);
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  msg->scenario = scenario;
  msg->file = member_string (object, "file", where);
  msg->from = member_string (object, "from", where);
  msg->sa = (guint) member_int (object, "ike_sa", 0, scenario->sas->len - 1, where);
  msg->exchange = (guint8) member_int (object, "exchange", 0, G_MAXUINT8, where);
  msg->response = g_variant_get_boolean (response);
  msg->message_id = (guint32) member_int (object, "message_id", 0, G_MAXUINT32, where);
  if (!member_is_null (object, "fragment", where))
    {
      g_autoptr (GVariant) fragment = member (object, "fragment", "av", where);
      gint64 numbers[2] = { 0, 0 };

      if (g_variant_n_children (fragment) != 2)
        g_error ("%s: \"fragment\" is not [number, total]", where);
      for (gsize i = 0; i < 2; i++)
        {
          g_autoptr (GVariant) boxed = g_variant_get_child_value (fragment, i);
          g_autoptr (GVariant) number = g_variant_get_variant (boxed);

          if (!g_variant_is_of_type (number, G_VARIANT_TYPE_INT64))
            g_error ("%s: \"fragment\" is not [number, total]", where);
          numbers[i] = g_variant_get_int64 (number);
        }
      if (numbers[0] < 1 || numbers[0] > numbers[1] || numbers[1] > G_MAXUINT16)
        g_error ("%s: bad \"fragment\"", where);
      msg->fragment = (guint) numbers[0];
      msg->total = (guint) numbers[1];
    }
  if (!member_is_null (object, "inner", where))
    {
      g_autoptr (GVariant) inner = member (object, "inner", "av", where);
      g_autoptr (GStrvBuilder) names = g_strv_builder_new ();

      for (gsize i = 0; i < g_variant_n_children (inner); i++)
        {
          g_autoptr (GVariant) boxed = g_variant_get_child_value (inner, i);
          g_autoptr (GVariant) name = g_variant_get_variant (boxed);

          if (!g_variant_is_of_type (name, G_VARIANT_TYPE_STRING))
            g_error ("%s: \"inner\" holds a non-string", where);
          g_strv_builder_add (names, g_variant_get_string (name, NULL));
        }
      msg->inner = g_strv_builder_end (names);
    }
  parse_file_name (msg, scenario->name);
  path = g_build_filename (IKE_GOLDEN_DIR, msg->file, NULL);
  if (!g_file_get_contents (path, &data, &len, &error))
    g_error ("%s: %s", where, error->message);
  msg->bytes = g_bytes_new_take (data, len);
  return msg;
}

Scenario *
load_scenario (const char *json_name)
{
  g_autofree char *path = g_build_filename (IKE_GOLDEN_DIR, json_name, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GVariant) doc = NULL;
  g_autoptr (GVariant) peers = NULL;
  g_autoptr (GVariant) sas = NULL;
  g_autoptr (GVariant) msgs = NULL;
  Scenario *scenario = g_new0 (Scenario, 1);
  GVariantIter iter;
  const char *host;
  GVariant *peer;

  if (!g_file_get_contents (path, &text, &len, &error)
      || (doc = json_parse (text, len, &error)) == NULL)
    g_error ("%s: %s", json_name, error->message);
  if (!g_variant_is_of_type (doc, G_VARIANT_TYPE_VARDICT))
    g_error ("%s: not a JSON object", json_name);
  scenario->name = member_string (doc, "scenario", json_name);
  scenario->psk = member_string (doc, "psk", json_name);
  scenario->software = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  peers = member (doc, "peers", "a{sv}", json_name);
  g_variant_iter_init (&iter, peers);
  while (g_variant_iter_loop (&iter, "{&sv}", &host, &peer))
    {
      if (!g_variant_is_of_type (peer, G_VARIANT_TYPE_VARDICT))
        g_error ("%s: peer %s is not an object", json_name, host);
      g_hash_table_insert (scenario->software, g_strdup (host),
                           member_string (peer, "software", json_name));
    }
  scenario->sas = g_ptr_array_new_with_free_func ((GDestroyNotify) golden_sa_free);
  sas = member (doc, "ike_sas", "av", json_name);
  for (gsize i = 0; i < g_variant_n_children (sas); i++)
    {
      g_autoptr (GVariant) boxed = g_variant_get_child_value (sas, i);
      g_autoptr (GVariant) object = g_variant_get_variant (boxed);
      g_autofree char *where = g_strdup_printf ("%s: ike_sas[%zu]", json_name, i);
      GoldenSa *sa;

      if (!g_variant_is_of_type (object, G_VARIANT_TYPE_VARDICT))
        g_error ("%s: not an object", where);
      sa = load_sa (object, (guint) i, where);
      sa->scenario = scenario;
      g_ptr_array_add (scenario->sas, sa);
    }
  if (scenario->sas->len == 0)
    g_error ("%s: no IKE SA", json_name);
  scenario->msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) golden_msg_free);
  msgs = member (doc, "messages", "av", json_name);
  for (gsize i = 0; i < g_variant_n_children (msgs); i++)
    {
      g_autoptr (GVariant) boxed = g_variant_get_child_value (msgs, i);
      g_autoptr (GVariant) object = g_variant_get_variant (boxed);
      g_autofree char *where = g_strdup_printf ("%s: messages[%zu]", json_name, i);

      if (!g_variant_is_of_type (object, G_VARIANT_TYPE_VARDICT))
        g_error ("%s: not an object", where);
      g_ptr_array_add (scenario->msgs, load_msg (object, scenario, where));
    }
  return scenario;
}
