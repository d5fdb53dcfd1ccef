import type { AttachmentRefData } from '#protocol/server-frames';
import { byId, el } from './dom.js';

/** What the message list and the composer need for files. */
export interface FileActions {
  /** Uploads and sends files to the active thread; resolves with an error text, or undefined. */
  sendFiles(files: readonly File[]): Promise<string | undefined>;
  downloadUrl(attachmentId: string): Promise<string>;
}

const sizeText = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(0)} KB`
      : `${(bytes / 1048576).toFixed(1)} MB`;

/**
 * The files of one message: an image preview for images, and a download link for every file. URLs
 * are short-lived and asked for when the message is drawn (members only, see getAttachment).
 */
export function renderFiles(files: readonly AttachmentRefData[], actions: FileActions): HTMLElement {
  const list = el('ul', { class: 'files' });
  for (const file of files) {
    const link = el(
      'a',
      { class: 'file-link', 'data-attachment-id': file.attachmentId, target: '_blank', rel: 'noopener' },
      `${file.fileName} (${sizeText(file.size)})`,
    );
    const image = file.contentType.startsWith('image/')
      ? el('img', { alt: file.fileName, 'data-attachment-id': file.attachmentId, loading: 'lazy' })
      : null;
    list.append(el('li', {}, image, link));
    actions.downloadUrl(file.attachmentId).then(
      (url) => {
        link.href = url;
        if (image) image.src = url;
      },
      () => {
        link.textContent = `${file.fileName} (not available)`;
      },
    );
  }
  return list;
}

/** The attach button, the hidden file input and drag and drop onto the chat. */
export function mountComposerFiles(actions: FileActions, signal: AbortSignal): void {
  const input = byId<HTMLInputElement>('attach-input');
  const status = byId('attach-status');
  const chat = byId('chat');
  const send = async (files: readonly File[]) => {
    if (files.length === 0) return;
    status.textContent = `Uploading ${files.map((file) => file.name).join(', ')}…`;
    const error = await actions.sendFiles(files);
    status.textContent = error ?? '';
  };
  byId('attach-button').addEventListener('click', () => input.click(), { signal });
  input.addEventListener(
    'change',
    () => {
      const files = Array.from(input.files ?? []);
      input.value = '';
      void send(files);
    },
    { signal },
  );
  chat.addEventListener(
    'dragover',
    (event) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      chat.classList.add('dropping');
    },
    { signal },
  );
  chat.addEventListener('dragleave', () => chat.classList.remove('dropping'), { signal });
  chat.addEventListener(
    'drop',
    (event) => {
      chat.classList.remove('dropping');
      if (!event.dataTransfer?.files.length) return;
      event.preventDefault();
      void send(Array.from(event.dataTransfer.files));
    },
    { signal },
  );
}
