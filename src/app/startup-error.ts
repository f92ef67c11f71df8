/** A startup refusal whose message names the variable to change. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** A connection URL without its password, for messages and logs. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
