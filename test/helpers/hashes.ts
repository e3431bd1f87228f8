/** The cheapest scrypt parameters parsePasswordHash accepts: fixtures hash with these to keep tests fast. */
export const cheapHashParams = {logN: 14, r: 8, p: 1}
