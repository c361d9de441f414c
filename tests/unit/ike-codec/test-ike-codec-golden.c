/* Golden packets: messages captured from strongSwan and libreswan, kept in
 * tests/data/golden/.  Each file is one test:
 *
 *   NAME.bin    a UDP payload as captured (port 4500 ones start with the
 *               non-ESP marker): it must parse, and what we build from it
 *               must parse to the same payloads
 *   NAME.inner  a decrypted SK content, its first octet the SK's Next
 *               Payload: the same, through the inner-chain parser
 *
 * tests/interop/capture-golden.py fills the directory; an empty or missing
 * one is a failure, so the check can never pass by having nothing to read. */
#include <string.h>

#include "ike-samples.h"

#ifndef IKE_GOLDEN_DIR
#error "IKE_GOLDEN_DIR must name tests/data/golden"
#endif

static GBytes *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

static void
test_message (gconstpointer data)
{
  g_autoptr (GBytes) file = read_file (data);
  gsize len = 0, offset = 0;
  const guint8 *d = g_bytes_get_data (file, &len);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsg) msg = NULL;
  g_autoptr (IkeMsg) again = NULL;
  g_autoptr (GBytes) rebuilt = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;

  if (ike_natt_classify (d, len, &offset) != IKE_NATT_IKE)
    offset = 0;
  bytes = g_bytes_new_from_bytes (file, offset, len - offset);
  msg = ike_msg_parse (bytes, NULL, &error);
  g_assert_no_error (error);
  text = ike_msg_describe (msg);
  g_test_message ("%s", text);
  rebuilt = ike_msg_to_bytes (msg, &error);
  g_assert_no_error (error);
  again = ike_msg_parse (rebuilt, NULL, &error);
  g_assert_no_error (error);
  text_again = ike_msg_describe (again);
  g_assert_cmpstr (text, ==, text_again);
}

static void
test_inner (gconstpointer data)
{
  g_autoptr (GBytes) file = read_file (data);
  g_autoptr (GBytes) chain = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeInner) inner = NULL;
  g_autoptr (IkeInner) again = NULL;
  g_autoptr (GBytes) rebuilt = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;
  guint8 first, first_again = 0;

  g_assert_cmpuint (g_bytes_get_size (file), >=, 1);
  first = *(const guint8 *) g_bytes_get_data (file, NULL);
  chain = g_bytes_new_from_bytes (file, 1, g_bytes_get_size (file) - 1);
  inner = ike_inner_parse (chain, first, NULL, &error);
  g_assert_no_error (error);
  text = ike_inner_describe (inner);
  g_test_message ("%s", text);
  rebuilt = ike_inner_to_bytes (inner, &first_again, &error);
  g_assert_no_error (error);
  again = ike_inner_parse (rebuilt, first_again, NULL, &error);
  g_assert_no_error (error);
  text_again = ike_inner_describe (again);
  g_assert_cmpstr (text, ==, text_again);
}

static void
test_none (void)
{
  g_test_fail_printf ("no golden packets in " IKE_GOLDEN_DIR);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* One test per file, in name order so runs compare. */
static guint
add_golden_tests (GPtrArray *paths)
{
  g_autoptr (GDir) dir = g_dir_open (IKE_GOLDEN_DIR, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".bin") || g_str_has_suffix (name, ".inner"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      char *path = g_build_filename (IKE_GOLDEN_DIR, file, NULL);
      g_autofree char *test = g_strconcat ("/ike-codec/golden/", file, NULL);

      g_ptr_array_add (paths, path);
      g_test_add_data_func (test, path,
                            g_str_has_suffix (file, ".bin") ? test_message : test_inner);
    }
  return names->len;
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  g_test_init (&argc, &argv, NULL);
  if (add_golden_tests (paths) == 0)
    g_test_add_func ("/ike-codec/golden/none", test_none);
  return g_test_run ();
}
