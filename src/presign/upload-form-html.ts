/**
 * A minimal HTML page with a browser upload form for a presigned POST policy.
 * S3 ignores form fields that come after the file, so the file input is the last field.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */

export interface UploadForm {
  url: string;
  fields: Record<string, string>;
}

/** The name of the file field that S3 expects in a POST Object form. */
export const FILE_FIELD_NAME = 'file';

export function renderUploadFormHtml(form: UploadForm, title: string): string {
  const hiddenInputs = Object.entries(form.fields).map(
    ([name, value]) => `    <input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '  <meta charset="utf-8">',
    `  <title>${escapeHtml(title)}</title>`,
    '</head>',
    '<body>',
    `  <h1>${escapeHtml(title)}</h1>`,
    `  <form action="${escapeHtml(form.url)}" method="post" enctype="multipart/form-data">`,
    ...hiddenInputs,
    `    <input type="file" name="${FILE_FIELD_NAME}" required>`,
    '    <button type="submit">Upload</button>',
    '  </form>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Escapes text for an HTML element body or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
