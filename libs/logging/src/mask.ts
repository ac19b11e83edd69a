/**
 * Masks a phone number (MSISDN / SMPP address) for logs: keeps a leading "+", the first digits
 * (country code and some of the network prefix) and the last two characters, and replaces everything
 * in between by a fixed "****" so the length is not revealed either.
 *
 *   length (without "+") | kept prefix | example
 *   ≥ 9                  | 4           | "447911123412" -> "4479****12"
 *   8                    | 3           | "49301234"     -> "493****34"
 *   7                    | 2           | "4930123"      -> "49****23"
 *   ≤ 6                  | all         | "85022" (short code, identifies a service, not a person)
 *
 * At least three characters are always hidden for numbers of 7 or more. Alphanumeric sender IDs follow the
 * same rule. With `debugNumbers` (LOG_DEBUG_NUMBERS=true) the input is returned unchanged.
 */
export function maskNumber(msisdn: string, debugNumbers = false): string {
  if (debugNumbers) return msisdn;
  const plus = msisdn.startsWith('+') ? '+' : '';
  const body = msisdn.slice(plus.length);
  const n = body.length;
  if (n <= 6) return msisdn;
  const keep = Math.min(4, n - 5);
  return `${plus}${body.slice(0, keep)}****${body.slice(n - 2)}`;
}
