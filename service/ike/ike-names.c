/* Names of IKEv2 numbers for logs, spelled as in the IANA registries so a
 * log line can be searched for.  NULL for numbers we do not know: the
 * caller prints the number instead. */
#include "ike-payload-private.h"

typedef struct
{
  guint value;
  const char *name;
} IkeName;

static const char *
lookup (const IkeName *table, gsize n, guint value)
{
  for (gsize i = 0; i < n; i++)
    if (table[i].value == value)
      return table[i].name;
  return NULL;
}

#define LOOKUP(table, value) lookup (table, G_N_ELEMENTS (table), value)

static const IkeName exchanges[] = {
  { IKE_EXCHANGE_SA_INIT, "IKE_SA_INIT" },
  { IKE_EXCHANGE_AUTH, "IKE_AUTH" },
  { IKE_EXCHANGE_CREATE_CHILD_SA, "CREATE_CHILD_SA" },
  { IKE_EXCHANGE_INFORMATIONAL, "INFORMATIONAL" },
  { IKE_EXCHANGE_INTERMEDIATE, "IKE_INTERMEDIATE" },
};

static const IkeName notifies[] = {
  { IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, "UNSUPPORTED_CRITICAL_PAYLOAD" },
  { IKE_N_INVALID_IKE_SPI, "INVALID_IKE_SPI" },
  { IKE_N_INVALID_MAJOR_VERSION, "INVALID_MAJOR_VERSION" },
  { IKE_N_INVALID_SYNTAX, "INVALID_SYNTAX" },
  { IKE_N_INVALID_MESSAGE_ID, "INVALID_MESSAGE_ID" },
  { IKE_N_INVALID_SPI, "INVALID_SPI" },
  { IKE_N_NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN" },
  { IKE_N_INVALID_KE_PAYLOAD, "INVALID_KE_PAYLOAD" },
  { IKE_N_AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED" },
  { IKE_N_SINGLE_PAIR_REQUIRED, "SINGLE_PAIR_REQUIRED" },
  { IKE_N_NO_ADDITIONAL_SAS, "NO_ADDITIONAL_SAS" },
  { IKE_N_INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE" },
  { IKE_N_FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED" },
  { IKE_N_TS_UNACCEPTABLE, "TS_UNACCEPTABLE" },
  { IKE_N_INVALID_SELECTORS, "INVALID_SELECTORS" },
  { IKE_N_UNACCEPTABLE_ADDRESSES, "UNACCEPTABLE_ADDRESSES" },
  { IKE_N_UNEXPECTED_NAT_DETECTED, "UNEXPECTED_NAT_DETECTED" },
  { IKE_N_TEMPORARY_FAILURE, "TEMPORARY_FAILURE" },
  { IKE_N_CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND" },
  { IKE_N_INITIAL_CONTACT, "INITIAL_CONTACT" },
  { IKE_N_SET_WINDOW_SIZE, "SET_WINDOW_SIZE" },
  { IKE_N_ADDITIONAL_TS_POSSIBLE, "ADDITIONAL_TS_POSSIBLE" },
  { IKE_N_IPCOMP_SUPPORTED, "IPCOMP_SUPPORTED" },
  { IKE_N_NAT_DETECTION_SOURCE_IP, "NAT_DETECTION_SOURCE_IP" },
  { IKE_N_NAT_DETECTION_DESTINATION_IP, "NAT_DETECTION_DESTINATION_IP" },
  { IKE_N_COOKIE, "COOKIE" },
  { IKE_N_USE_TRANSPORT_MODE, "USE_TRANSPORT_MODE" },
  { IKE_N_HTTP_CERT_LOOKUP_SUPPORTED, "HTTP_CERT_LOOKUP_SUPPORTED" },
  { IKE_N_REKEY_SA, "REKEY_SA" },
  { IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED, "ESP_TFC_PADDING_NOT_SUPPORTED" },
  { IKE_N_NON_FIRST_FRAGMENTS_ALSO, "NON_FIRST_FRAGMENTS_ALSO" },
  { IKE_N_MOBIKE_SUPPORTED, "MOBIKE_SUPPORTED" },
  { IKE_N_ADDITIONAL_IP4_ADDRESS, "ADDITIONAL_IP4_ADDRESS" },
  { IKE_N_ADDITIONAL_IP6_ADDRESS, "ADDITIONAL_IP6_ADDRESS" },
  { IKE_N_NO_ADDITIONAL_ADDRESSES, "NO_ADDITIONAL_ADDRESSES" },
  { IKE_N_UPDATE_SA_ADDRESSES, "UPDATE_SA_ADDRESSES" },
  { IKE_N_COOKIE2, "COOKIE2" },
  { IKE_N_NO_NATS_ALLOWED, "NO_NATS_ALLOWED" },
  { IKE_N_AUTH_LIFETIME, "AUTH_LIFETIME" },
  { IKE_N_MULTIPLE_AUTH_SUPPORTED, "MULTIPLE_AUTH_SUPPORTED" },
  { IKE_N_ANOTHER_AUTH_FOLLOWS, "ANOTHER_AUTH_FOLLOWS" },
  { IKE_N_REDIRECT_SUPPORTED, "REDIRECT_SUPPORTED" },
  { IKE_N_REDIRECT, "REDIRECT" },
  { IKE_N_REDIRECTED_FROM, "REDIRECTED_FROM" },
  { IKE_N_EAP_ONLY_AUTHENTICATION, "EAP_ONLY_AUTHENTICATION" },
  { IKE_N_CHILDLESS_IKEV2_SUPPORTED, "CHILDLESS_IKEV2_SUPPORTED" },
  { IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, "IKEV2_FRAGMENTATION_SUPPORTED" },
  { IKE_N_SIGNATURE_HASH_ALGORITHMS, "SIGNATURE_HASH_ALGORITHMS" },
  { IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED, "INTERMEDIATE_EXCHANGE_SUPPORTED" },
};

static const IkeName protocols[] = {
  { IKE_PROTO_IKE, "IKE" },
  { IKE_PROTO_AH, "AH" },
  { IKE_PROTO_ESP, "ESP" },
};

static const IkeName transform_types[] = {
  { IKE_TRANSFORM_ENCR, "ENCR" }, { IKE_TRANSFORM_PRF, "PRF" }, { IKE_TRANSFORM_INTEG, "INTEG" },
  { IKE_TRANSFORM_KE, "KE" },     { IKE_TRANSFORM_ESN, "ESN" },
};

static const IkeName encr_ids[] = {
  { IKE_ENCR_3DES, "3DES" },
  { IKE_ENCR_NULL, "NULL" },
  { IKE_ENCR_AES_CBC, "AES_CBC" },
  { IKE_ENCR_AES_CTR, "AES_CTR" },
  { IKE_ENCR_AES_CCM_8, "AES_CCM_8" },
  { IKE_ENCR_AES_CCM_12, "AES_CCM_12" },
  { IKE_ENCR_AES_CCM_16, "AES_CCM_16" },
  { IKE_ENCR_AES_GCM_8, "AES_GCM_8" },
  { IKE_ENCR_AES_GCM_12, "AES_GCM_12" },
  { IKE_ENCR_AES_GCM_16, "AES_GCM_16" },
  { IKE_ENCR_NULL_AUTH_AES_GMAC, "NULL_AUTH_AES_GMAC" },
  { IKE_ENCR_CAMELLIA_CBC, "CAMELLIA_CBC" },
  { IKE_ENCR_CHACHA20_POLY1305, "CHACHA20_POLY1305" },
};

static const IkeName prf_ids[] = {
  { IKE_PRF_HMAC_MD5, "PRF_HMAC_MD5" },           { IKE_PRF_HMAC_SHA1, "PRF_HMAC_SHA1" },
  { IKE_PRF_AES128_XCBC, "PRF_AES128_XCBC" },     { IKE_PRF_HMAC_SHA2_256, "PRF_HMAC_SHA2_256" },
  { IKE_PRF_HMAC_SHA2_384, "PRF_HMAC_SHA2_384" }, { IKE_PRF_HMAC_SHA2_512, "PRF_HMAC_SHA2_512" },
  { IKE_PRF_AES128_CMAC, "PRF_AES128_CMAC" },
};

static const IkeName integ_ids[] = {
  { IKE_INTEG_NONE, "NONE" },
  { IKE_INTEG_HMAC_MD5_96, "AUTH_HMAC_MD5_96" },
  { IKE_INTEG_HMAC_SHA1_96, "AUTH_HMAC_SHA1_96" },
  { IKE_INTEG_AES_XCBC_96, "AUTH_AES_XCBC_96" },
  { IKE_INTEG_AES_CMAC_96, "AUTH_AES_CMAC_96" },
  { IKE_INTEG_HMAC_SHA2_256_128, "AUTH_HMAC_SHA2_256_128" },
  { IKE_INTEG_HMAC_SHA2_384_192, "AUTH_HMAC_SHA2_384_192" },
  { IKE_INTEG_HMAC_SHA2_512_256, "AUTH_HMAC_SHA2_512_256" },
};

static const IkeName ke_ids[] = {
  { IKE_KE_NONE, "NONE" },          { IKE_KE_MODP1024, "MODP_1024" },
  { IKE_KE_MODP1536, "MODP_1536" }, { IKE_KE_MODP2048, "MODP_2048" },
  { IKE_KE_MODP3072, "MODP_3072" }, { IKE_KE_MODP4096, "MODP_4096" },
  { IKE_KE_MODP6144, "MODP_6144" }, { IKE_KE_MODP8192, "MODP_8192" },
  { IKE_KE_ECP256, "ECP_256" },     { IKE_KE_ECP384, "ECP_384" },
  { IKE_KE_ECP521, "ECP_521" },     { IKE_KE_CURVE25519, "CURVE25519" },
  { IKE_KE_CURVE448, "CURVE448" },
};

static const IkeName esn_ids[] = {
  { IKE_ESN_NO, "NO_ESN" },
  { IKE_ESN_YES, "ESN" },
};

static const IkeName id_types[] = {
  { IKE_ID_IPV4_ADDR, "ID_IPV4_ADDR" },     { IKE_ID_FQDN, "ID_FQDN" },
  { IKE_ID_RFC822_ADDR, "ID_RFC822_ADDR" }, { IKE_ID_IPV6_ADDR, "ID_IPV6_ADDR" },
  { IKE_ID_DER_ASN1_DN, "ID_DER_ASN1_DN" }, { IKE_ID_DER_ASN1_GN, "ID_DER_ASN1_GN" },
  { IKE_ID_KEY_ID, "ID_KEY_ID" },           { IKE_ID_NULL, "ID_NULL" },
};

static const IkeName auth_methods[] = {
  { IKE_AUTH_RSA_SIG, "RSA_SIG" },
  { IKE_AUTH_SHARED_KEY, "SHARED_KEY_MIC" },
  { IKE_AUTH_DSS, "DSS_SIG" },
  { IKE_AUTH_ECDSA_256, "ECDSA_SHA256_P256" },
  { IKE_AUTH_ECDSA_384, "ECDSA_SHA384_P384" },
  { IKE_AUTH_ECDSA_521, "ECDSA_SHA512_P521" },
  { IKE_AUTH_NULL, "NULL_AUTH" },
  { IKE_AUTH_DIGITAL_SIGNATURE, "DIGITAL_SIGNATURE" },
};

static const IkeName cert_encodings[] = {
  { IKE_CERT_PKCS7_X509, "PKCS7_X509" },
  { IKE_CERT_X509_SIG, "X509_SIGNATURE" },
  { IKE_CERT_CRL, "CRL" },
  { IKE_CERT_HASH_URL_X509, "HASH_URL_X509" },
  { IKE_CERT_HASH_URL_BUNDLE, "HASH_URL_X509_BUNDLE" },
  { IKE_CERT_RAW_PUBLIC_KEY, "RAW_PUBLIC_KEY" },
};

static const IkeName ts_types[] = {
  { IKE_TS_IPV4_ADDR_RANGE, "TS_IPV4_ADDR_RANGE" },
  { IKE_TS_IPV6_ADDR_RANGE, "TS_IPV6_ADDR_RANGE" },
};

static const IkeName cfg_types[] = {
  { IKE_CFG_REQUEST, "CFG_REQUEST" },
  { IKE_CFG_REPLY, "CFG_REPLY" },
  { IKE_CFG_SET, "CFG_SET" },
  { IKE_CFG_ACK, "CFG_ACK" },
};

static const IkeName cfg_attrs[] = {
  { IKE_CFG_INTERNAL_IP4_ADDRESS, "INTERNAL_IP4_ADDRESS" },
  { IKE_CFG_INTERNAL_IP4_NETMASK, "INTERNAL_IP4_NETMASK" },
  { IKE_CFG_INTERNAL_IP4_DNS, "INTERNAL_IP4_DNS" },
  { IKE_CFG_INTERNAL_IP4_NBNS, "INTERNAL_IP4_NBNS" },
  { IKE_CFG_INTERNAL_IP4_DHCP, "INTERNAL_IP4_DHCP" },
  { IKE_CFG_APPLICATION_VERSION, "APPLICATION_VERSION" },
  { IKE_CFG_INTERNAL_IP6_ADDRESS, "INTERNAL_IP6_ADDRESS" },
  { IKE_CFG_INTERNAL_IP6_DNS, "INTERNAL_IP6_DNS" },
  { IKE_CFG_INTERNAL_IP6_DHCP, "INTERNAL_IP6_DHCP" },
  { IKE_CFG_INTERNAL_IP4_SUBNET, "INTERNAL_IP4_SUBNET" },
  { IKE_CFG_SUPPORTED_ATTRIBUTES, "SUPPORTED_ATTRIBUTES" },
  { IKE_CFG_INTERNAL_IP6_SUBNET, "INTERNAL_IP6_SUBNET" },
  { IKE_CFG_INTERNAL_DNS_DOMAIN, "INTERNAL_DNS_DOMAIN" },
};

static const IkeName errors[] = {
  { IKE_MSG_ERROR_DROP, "drop" },
  { IKE_MSG_ERROR_SYNTAX, "invalid-syntax" },
  { IKE_MSG_ERROR_CRITICAL, "unsupported-critical-payload" },
  { IKE_MSG_ERROR_MAJOR_VERSION, "invalid-major-version" },
  { IKE_MSG_ERROR_TOO_BIG, "too-big" },
};

const char *
ike_exchange_name (guint exchange)
{
  return LOOKUP (exchanges, exchange);
}

const char *
ike_notify_name (guint type)
{
  return LOOKUP (notifies, type);
}

const char *
ike_protocol_name (guint protocol)
{
  return LOOKUP (protocols, protocol);
}

const char *
ike_transform_type_name (guint type)
{
  return LOOKUP (transform_types, type);
}

const char *
ike_transform_id_name (guint type, guint id)
{
  switch (type)
    {
    case IKE_TRANSFORM_ENCR:
      return LOOKUP (encr_ids, id);
    case IKE_TRANSFORM_PRF:
      return LOOKUP (prf_ids, id);
    case IKE_TRANSFORM_INTEG:
      return LOOKUP (integ_ids, id);
    case IKE_TRANSFORM_KE:
      return LOOKUP (ke_ids, id);
    case IKE_TRANSFORM_ESN:
      return LOOKUP (esn_ids, id);
    default:
      return NULL;
    }
}

const char *
ike_id_type_name (guint type)
{
  return LOOKUP (id_types, type);
}

const char *
ike_auth_method_name (guint method)
{
  return LOOKUP (auth_methods, method);
}

const char *
ike_cert_encoding_name (guint encoding)
{
  return LOOKUP (cert_encodings, encoding);
}

const char *
ike_ts_type_name (guint type)
{
  return LOOKUP (ts_types, type);
}

const char *
ike_cfg_type_name (guint type)
{
  return LOOKUP (cfg_types, type);
}

const char *
ike_cfg_attr_name (guint type)
{
  return LOOKUP (cfg_attrs, type);
}

const char *
ike_msg_error_name (IkeMsgError code)
{
  return LOOKUP (errors, code);
}
