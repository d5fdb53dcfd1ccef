import { QUICK_REACTIONS } from '#client-core/message-changes';
import type { ChatItem } from '#client-core/timeline';
import { el } from './dom.js';
import { fullFormat } from './labels.js';

/*
 * Edits and reactions in the message list: the "(edited)" mark, the reaction chips (a toggle
 * button each, aria-pressed when the chip is the user's own), the React button with its picker and
 * the Edit button. Plain buttons, so Tab, Enter and Space work; the view handles the clicks.
 */

/** What a message's rendering depends on here: part of its render signature. */
export const changesSignature = (item: ChatItem, pickerOpen: boolean) =>
  [item.editedAt, JSON.stringify(item.reactions ?? {}), (item.myReactions ?? []).join(','), pickerOpen].join('|');

export function editedMark(item: ChatItem): HTMLElement | null {
  if (!item.editedAt || item.deleted) return null;
  return el('span', { class: 'edited', title: `Edited ${fullFormat.format(new Date(item.editedAt))}` }, ' (edited)');
}

const reactionLabel = (emoji: string, count: number, mine: boolean) =>
  `${emoji} ${count} ${count === 1 ? 'reaction' : 'reactions'}${mine ? ', including yours: press to take it back' : ': press to add yours'}`;

/** The chips, the React button and, when open, the picker. Nothing for deleted or unsent messages. */
export function reactionBar(item: ChatItem, canChange: boolean, pickerOpen: boolean): HTMLElement | null {
  if (item.deleted || !canChange) return null;
  const mine = new Set(item.myReactions ?? []);
  const chips = Object.entries(item.reactions ?? {})
    .filter(([, count]) => count > 0)
    .map(([emoji, count]) =>
      el(
        'button',
        {
          type: 'button',
          class: `reaction${mine.has(emoji) ? ' mine' : ''}`,
          'data-action': 'toggle-reaction',
          'data-emoji': emoji,
          'aria-pressed': String(mine.has(emoji)),
          'aria-label': reactionLabel(emoji, count, mine.has(emoji)),
        },
        `${emoji} ${count}`,
      ),
    );
  const pickerId = `picker-${item.id}`;
  const picker = pickerOpen
    ? el(
        'div',
        { class: 'reaction-picker', id: pickerId, role: 'group', 'aria-label': 'Pick a reaction' },
        ...QUICK_REACTIONS.map((emoji) =>
          el(
            'button',
            {
              type: 'button',
              'data-action': 'toggle-reaction',
              'data-emoji': emoji,
              'aria-pressed': String(mine.has(emoji)),
              'aria-label': `React with ${emoji}`,
            },
            emoji,
          ),
        ),
      )
    : null;
  return el(
    'div',
    { class: 'reactions' },
    ...chips,
    el(
      'button',
      {
        type: 'button',
        class: 'link-button add-reaction',
        'data-action': 'react-menu',
        'aria-expanded': String(pickerOpen),
        'aria-controls': pickerOpen ? pickerId : undefined,
        'aria-label': 'Add a reaction',
      },
      '☺+',
    ),
    picker,
  );
}

export function editButton(item: ChatItem, canChange: boolean): HTMLElement | null {
  if (!item.mine || item.deleted || !canChange) return null;
  return el(
    'button',
    { type: 'button', class: 'link-button', 'data-action': 'edit', 'aria-label': 'Edit message' },
    'Edit',
  );
}
