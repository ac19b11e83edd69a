/**
 * The TLS policy of every listener the hub runs, SMPP (libs/smpp) and gRPC (libs/grpc) alike, in one place:
 * TLS 1.3, and TLS 1.2 with ECDHE key exchange (forward secrecy) and AEAD ciphers (GCM, ChaCha20-Poly1305)
 * only: no CBC suites with SHA-1 MACs, no RSA key exchange, nothing older than 1.2. Works with RSA and ECDSA
 * certificates. ESMEs too old for this (some Java 7 era stacks) are better served by an stunnel in front
 * than by weakening every customer's link. Imported as `@smshub/smpp/tls-policy`, which loads nothing else.
 */
export const TLS_SERVER_POLICY = Object.freeze({
  minVersion: 'TLSv1.2' as const,
  ciphers: [
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'TLS_AES_128_GCM_SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
  ].join(':'),
  honorCipherOrder: true,
});
