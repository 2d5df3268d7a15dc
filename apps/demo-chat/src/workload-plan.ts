/**
 * How the seeded data and the load generator agree without talking: chat-history rank k (0-based,
 * rank 0 the most popular) is conversation id k + 1, owned by `user-<k % users>`.
 */
export const SEED_USERS = 50;

export const conversationIdOfRank = (rank: number): number => rank + 1;

export const ownerOfConversation = (id: number, users: number = SEED_USERS): string =>
  `user-${(id - 1) % users}`;
