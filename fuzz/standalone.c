/* Replays fuzz inputs without libFuzzer: each argument is a file or a
 * directory of files, fed once to LLVMFuzzerTestOneInput.  This keeps every
 * target built and its corpus checked in ordinary (gcc, sanitizer, valgrind)
 * builds. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gboolean
replay_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize size = 0;

  if (!g_file_get_contents (path, &data, &size, &error))
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, size);
  return TRUE;
}

static gboolean
replay_dir (const char *path, guint *count)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  const char *name;

  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      if (!replay_file (file))
        return FALSE;
      (*count)++;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint count = 0;

  for (int i = 1; i < argc; i++)
    {
      gboolean ok;

      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        ok = replay_dir (argv[i], &count);
      else
        ok = replay_file (argv[i]) && ++count;
      if (!ok)
        return EXIT_FAILURE;
    }
  if (count == 0)
    {
      g_printerr ("no inputs replayed: give corpus files or directories\n");
      return EXIT_FAILURE;
    }
  g_print ("replayed %u inputs\n", count);
  return EXIT_SUCCESS;
}
