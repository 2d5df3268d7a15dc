/** What the API returns (and the caches hold): plain JSON, dates as ISO strings. */

export interface Conversation {
  id: number;
  ownerId: string;
  title: string;
  createdAt: string;
}

export interface Message {
  id: number;
  conversationId: number;
  author: 'user' | 'assistant';
  authorId: string;
  text: string;
  createdAt: string;
}

/** A conversation that does not exist, or belongs to someone else: both answer 404. */
export class NotFoundError extends Error {
  readonly statusCode = 404;
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** A request before migrations, seeding and warm-up finished, or during shutdown. */
export class NotReadyError extends Error {
  readonly statusCode = 503;
  constructor(reason: string) {
    super(reason);
    this.name = 'NotReadyError';
  }
}
