/* The daemon's log writer.  Under systemd, stderr is the journal and the
 * structured fields go there as fields.  Anywhere else (a terminal, a test)
 * each record is one line on stderr: time, level, message, then the
 * IPSECD_* fields as KEY="value" with C escapes, so a script can pick the
 * events out without the journal. */
#include "config.h"

#include "daemon.h"

#include <stdio.h>
#include <string.h>

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "error";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "critical";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "message";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

static const char *
find_field (const GLogField *fields, gsize n_fields, const char *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, key) && fields[i].length < 0)
      return fields[i].value;
  return NULL;
}

static void
append_fields (GString *line, const GLogField *fields, gsize n_fields)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      g_autofree char *escaped = NULL;

      if (!g_str_has_prefix (fields[i].key, "IPSECD_") || fields[i].length >= 0)
        continue;
      escaped = g_strescape (fields[i].value, NULL);
      g_string_append_printf (line, " %s=\"%s\"", fields[i].key, escaped);
    }
}

/* Both asked once: GLib 2.74 asks the socket with getpeername() and reads
 * /etc/localtime again on every record (when TZ is unset), which cost the
 * responder a few percent of its time per IKE SA.  stderr stays the same
 * for the process's life; a change of the system's time zone shows after
 * a restart. */
static gboolean
stderr_is_journal (void)
{
  static gsize answer; /* 1 + the answer, once known */

  if (g_once_init_enter (&answer))
    g_once_init_leave (&answer, 1 + (gsize) g_log_writer_is_journald (fileno (stderr)));
  return answer == 2;
}

static GTimeZone *
local_zone (void)
{
  static GTimeZone *zone;

  if (g_once_init_enter (&zone))
    g_once_init_leave (&zone, g_time_zone_new_local ());
  return zone;
}

GLogWriterOutput
ipsecd_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                   gpointer user_data)
{
  const char *message = find_field (fields, n_fields, "MESSAGE");
  g_autoptr (GString) line = NULL;
  g_autoptr (GDateTime) now = NULL;
  g_autofree char *time = NULL;

  if (stderr_is_journal ()
      && g_log_writer_journald (level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  if (g_log_writer_default_would_drop (level, find_field (fields, n_fields, "GLIB_DOMAIN")))
    return G_LOG_WRITER_HANDLED;
  now = g_date_time_new_now (local_zone ());
  time = g_date_time_format (now, "%H:%M:%S.%f");
  line = g_string_new (NULL);
  /* %f is microseconds: keep milliseconds */
  g_string_append_printf (line, "%.12s ipsecd %s: %s", time, level_name (level),
                          message != NULL ? message : "");
  append_fields (line, fields, n_fields);
  g_string_append_c (line, '\n');
  fputs (line->str, stderr);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}
