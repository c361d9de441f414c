/* THE exchange table: which message is expected in which state, what it
 * must and may carry, who handles it and where the SA goes next.  A message
 * that matches no row, lacks a required payload or carries one the row does
 * not allow is rejected here, before any handler runs.
 *
 * For IKE_SA_INIT the payloads are the cleartext ones; for every other
 * exchange they are those inside SK (the receive path opened it already).
 * Rows are tried in order: the first whose required payloads are all there
 * wins, so a success row comes before the error-notify row of the same
 * message. */
#include "ike-engine-private.h"

#define SA IKE_PBIT (IKE_PAYLOAD_SA)
#define KE IKE_PBIT (IKE_PAYLOAD_KE)
#define IDi IKE_PBIT (IKE_PAYLOAD_IDI)
#define IDr IKE_PBIT (IKE_PAYLOAD_IDR)
#define CERT IKE_PBIT (IKE_PAYLOAD_CERT)
#define CERTREQ IKE_PBIT (IKE_PAYLOAD_CERTREQ)
#define AUTH IKE_PBIT (IKE_PAYLOAD_AUTH)
#define Nx IKE_PBIT (IKE_PAYLOAD_NONCE)
#define N IKE_PBIT (IKE_PAYLOAD_NOTIFY)
#define D IKE_PBIT (IKE_PAYLOAD_DELETE)
#define V IKE_PBIT (IKE_PAYLOAD_VENDOR)
#define TSi IKE_PBIT (IKE_PAYLOAD_TSI)
#define TSr IKE_PBIT (IKE_PAYLOAD_TSR)
#define CP IKE_PBIT (IKE_PAYLOAD_CP)
#define TS (TSi | TSr)

#define REQ FALSE
#define RESP TRUE

typedef struct
{
  IkeSaState state;
  guint8 exchange;
  gboolean response;
  guint32 required;
  guint32 optional;
  IkeExchangeHandler handler;
  IkeSaState next;
} IkeExchangeRow;

/* Short names, for the table only. */
#define S_NONE IKE_STATE_NONE
#define S_I_INIT IKE_STATE_I_INIT_SENT
#define S_R_INIT IKE_STATE_R_INIT_DONE
#define S_I_AUTH IKE_STATE_I_AUTH_SENT
#define S_UP IKE_STATE_ESTABLISHED
#define S_DELETING IKE_STATE_DELETING
#define S_REKEYED IKE_STATE_REKEYED
#define S_DEAD IKE_STATE_DEAD
#define S_SAME IKE_STATE_SAME
#define X_INIT IKE_EXCHANGE_SA_INIT
#define X_AUTH IKE_EXCHANGE_AUTH
#define X_CHILD IKE_EXCHANGE_CREATE_CHILD_SA
#define X_INFO IKE_EXCHANGE_INFORMATIONAL
#define AUTH_OPT (CERT | CERTREQ | SA | TSi | TSr | CP | N | V)

/* clang-format off */
static const IkeExchangeRow table[] = {
/* state      exchange dir   required      optional               handler                            next */
  { S_NONE,    X_INIT,  REQ,  SA | KE | Nx, N | V | CERTREQ,       ike_init_handle_request,           S_R_INIT },
  { S_I_INIT,  X_INIT,  RESP, SA | KE | Nx, N | V | CERTREQ,       ike_init_handle_response,          S_I_AUTH },
  { S_I_INIT,  X_INIT,  RESP, N,            V,                     ike_init_handle_notify,            S_SAME  },
  { S_R_INIT,  X_AUTH,  REQ,  IDi | AUTH,   IDr | AUTH_OPT,        ike_auth_handle_request,           S_UP    },
  { S_I_AUTH,  X_AUTH,  RESP, IDr | AUTH,   AUTH_OPT,              ike_auth_handle_response,          S_UP    },
  { S_I_AUTH,  X_AUTH,  RESP, N,            V,                     ike_auth_handle_error,             S_DEAD  },
  { S_UP,      X_INFO,  REQ,  0,            D | N | CP | V,        ike_info_handle_request,           S_SAME  },
  { S_UP,      X_INFO,  RESP, 0,            D | N | CP | V,        ike_info_handle_response,          S_SAME  },
  { S_UP,      X_CHILD, REQ,  SA | Nx | TS, KE | N | V,            ike_create_child_handle_request,   S_SAME  },
  { S_UP,      X_CHILD, REQ,  SA | Nx | KE, N | V,                 ike_rekey_handle_request,          S_SAME  },
  { S_UP,      X_CHILD, RESP, SA | Nx | TS, KE | N | V,            ike_create_child_handle_response,  S_SAME  },
  { S_UP,      X_CHILD, RESP, SA | Nx | KE, N | V,                 ike_rekey_handle_response,         S_SAME  },
  { S_UP,      X_CHILD, RESP, N,            V,                     ike_create_handle_error,           S_SAME  },
  { S_DELETING,X_INFO,  REQ,  0,            D | N | V,             ike_info_handle_request,           S_SAME  },
  { S_DELETING,X_INFO,  RESP, 0,            D | N | V,             ike_info_handle_response,          S_SAME  },
  { S_REKEYED, X_INFO,  REQ,  0,            D | N | V,             ike_info_handle_request,           S_SAME  },
  { S_REKEYED, X_INFO,  RESP, 0,            D | N | V,             ike_info_handle_response,          S_SAME  },
};
/* clang-format on */

const char *
ike_sa_state_name (IkeSaState state)
{
  static const char *const names[] = {
    [IKE_STATE_NONE] = "NONE",
    [IKE_STATE_I_INIT_SENT] = "I_INIT_SENT",
    [IKE_STATE_R_INIT_DONE] = "R_INIT_DONE",
    [IKE_STATE_I_AUTH_SENT] = "I_AUTH_SENT",
    [IKE_STATE_ESTABLISHED] = "ESTABLISHED",
    [IKE_STATE_DELETING] = "DELETING",
    [IKE_STATE_REKEYED] = "REKEYED",
    [IKE_STATE_TOMBSTONE] = "TOMBSTONE",
    [IKE_STATE_DEAD] = "DEAD",
    [IKE_STATE_SAME] = "SAME",
  };

  return state < G_N_ELEMENTS (names) ? names[state] : "?";
}

static guint32
present_payloads (IkeRx *rx)
{
  guint n
      = rx->inner != NULL ? ike_inner_get_n_payloads (rx->inner) : ike_msg_get_n_payloads (rx->msg);
  guint32 present = 0;

  for (guint i = 0; i < n; i++)
    {
      const IkePayload *p = rx->inner != NULL ? ike_inner_get_payload (rx->inner, i)
                                              : ike_msg_get_payload (rx->msg, i);

      /* Unknown non-critical payloads were skipped by the codec; SK/SKF are
       * the envelope, not content. */
      if (!p->skipped && p->type != IKE_PAYLOAD_SK && p->type != IKE_PAYLOAD_SKF
          && p->type >= IKE_PAYLOAD_SA && p->type <= IKE_PAYLOAD_EAP)
        present |= IKE_PBIT (p->type);
    }
  return present;
}

static char *
describe_mask (guint32 mask)
{
  GString *names = g_string_new (NULL);

  for (guint type = IKE_PAYLOAD_SA; type <= IKE_PAYLOAD_EAP; type++)
    if (mask & IKE_PBIT (type))
      g_string_append_printf (names, "%s%s", names->len ? " " : "", ike_payload_short_name (type));
  return g_string_free (names, FALSE);
}

/* The matching row; NULL with *why set when the message must be rejected. */
static const IkeExchangeRow *
find_row (IkeRx *rx, IkeSaState state, guint32 present, char **why)
{
  gboolean response = (rx->hdr->flags & IKE_FLAG_RESPONSE) != 0;
  const IkeExchangeRow *partial = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      const IkeExchangeRow *row = &table[i];

      if (row->state != state || row->exchange != rx->hdr->exchange || row->response != response)
        continue;
      if ((present & row->required) != row->required)
        {
          partial = partial != NULL ? partial : row;
          continue;
        }
      if (present & ~(row->required | row->optional))
        {
          g_autofree char *extra = describe_mask (present & ~(row->required | row->optional));

          *why = g_strdup_printf ("payloads not allowed here: %s", extra);
          return NULL;
        }
      return row;
    }
  if (partial != NULL)
    {
      g_autofree char *missing = describe_mask (partial->required & ~present);

      *why = g_strdup_printf ("missing payloads: %s", missing);
    }
  else
    *why = g_strdup ("not expected in this state");
  return NULL;
}

static void
reject (IkeRx *rx, IkeSaState state, const char *why)
{
  ike_engine_reject (rx->engine, rx->ends, "%s %s #%u in state %s: %s",
                     ike_exchange_name (rx->hdr->exchange),
                     (rx->hdr->flags & IKE_FLAG_RESPONSE) ? "response" : "request",
                     rx->hdr->message_id, ike_sa_state_name (state), why);
  /* RFC 7296 §2.21.2: a protected request we cannot use is answered with
   * INVALID_SYNTAX; anything unprotected or a response is only dropped. */
  if (rx->sa != NULL && rx->inner != NULL && !(rx->hdr->flags & IKE_FLAG_RESPONSE))
    ike_sa_respond_notify (rx->sa, rx, IKE_N_INVALID_SYNTAX);
}

void
ike_exchange_dispatch (IkeRx *rx, IkeSaState state)
{
  g_autofree char *why = NULL;
  guint32 present = present_payloads (rx);
  const IkeExchangeRow *row = find_row (rx, state, present, &why);
  IkeRxResult result;

  if (row == NULL)
    return reject (rx, state, why);
  rx->present = present;
  result = row->handler (rx);
  if (rx->sa == NULL || result == IKE_RX_DROP || result == IKE_RX_DEAD)
    return;
  rx->sa->last_rx = rx->now;
  if (result == IKE_RX_NEXT && row->next != IKE_STATE_SAME)
    rx->sa->state = row->next;
  /* The exchange that held the window may have ended: the next one. */
  ike_task_kick (rx->sa, rx->now);
}
