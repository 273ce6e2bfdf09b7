// Errors about user data name the file, the line and the field, so that the CLI can print one
// clear sentence instead of a stack trace.

export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
    readonly field?: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}${field ? ` (field '${field}')` : ''}: ${detail}`);
    this.name = 'DataError';
  }
}
