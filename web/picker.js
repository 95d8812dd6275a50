// A searchable model picker: an ARIA 1.2 combobox whose listbox groups the presets by family.
// Keys: type to filter, Down/Up to move, Enter to choose, Escape to close (and restore), Home/End.

import { esc, modelSize } from './format.js';

/** The family traits the core reports for a preset (hybrid, sliding window, MoE, MLA, multimodal). */
const TRAIT_NAMES = { hybrid: 'hybrid', sliding_window: 'sliding window', moe: 'MoE', mla: 'MLA', multimodal: 'multimodal' };
function traitText(m) {
  return (m.traits ?? []).map((t) => TRAIT_NAMES[t] ?? t).join(', ');
}

export class ModelPicker {
  /**
   * @param input  the <input role="combobox">
   * @param list   the <ul role="listbox">
   * @param models presets [{ id, name, family, parameters, active_parameters }]
   * @param onPick called with the chosen id
   */
  constructor(input, list, models, onPick) {
    this.input = input;
    this.list = list;
    this.models = models;
    this.onPick = onPick;
    this.value = '';
    this.visible = [];
    this.active = -1;
    input.addEventListener('input', () => this.filter(input.value, true));
    input.addEventListener('keydown', (e) => this.key(e));
    input.addEventListener('focus', () => input.select());
    input.addEventListener('click', () => { if (!this.isOpen) this.filter('', true); });
    input.addEventListener('blur', () => this.close(true));
    list.addEventListener('mousedown', (e) => e.preventDefault());  // keep focus in the input
    list.addEventListener('click', (e) => {
      const li = e.target.closest('[role="option"]');
      if (li) this.choose(li.dataset.id);
    });
  }

  get isOpen() {
    return !this.list.hidden;
  }

  /** Shows `id` as the chosen model without calling onPick. */
  set(id) {
    this.value = id;
    const m = this.models.find((x) => x.id === id);
    this.input.value = m ? m.name : id;
  }

  filter(query, open) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    this.visible = this.models.filter((m) => {
      const hay = `${m.name} ${m.id} ${m.family} ${m.active_parameters < m.parameters ? 'moe' : ''} ${traitText(m)}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
    let html = '';
    let family = null;
    let group = 0;
    for (const m of this.visible) {
      if (m.family !== family) {
        if (family !== null) html += '</ul></li>';
        family = m.family;
        group += 1;
        html += `<li role="presentation"><ul role="group" aria-labelledby="mg-${group}">` +
          `<li role="presentation" class="group-label" id="mg-${group}">${esc(family)}</li>`;
      }
      html += `<li role="option" id="mo-${esc(m.id)}" data-id="${esc(m.id)}" aria-selected="${m.id === this.value}">` +
        `<span class="opt-name">${esc(m.name)}</span><span class="opt-meta">${esc(modelSize(m.parameters, m.active_parameters))}` +
        `${traitText(m) ? ` · ${esc(traitText(m))}` : ''}</span></li>`;
    }
    if (family !== null) html += '</ul></li>';
    if (this.visible.length === 0) html = '<li role="presentation" class="empty">No model matches</li>';
    this.list.innerHTML = html;
    this.setActive(this.visible.length > 0 ? Math.max(0, this.visible.findIndex((m) => m.id === this.value)) : -1);
    if (open) this.open();
  }

  open() {
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.scrollActive();
  }

  close(restore) {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
    if (restore) this.set(this.value);
  }

  setActive(i) {
    this.active = i;
    for (const el of this.list.querySelectorAll('.active')) el.classList.remove('active');
    const m = this.visible[i];
    if (!m) {
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    const el = document.getElementById(`mo-${m.id}`);
    el?.classList.add('active');
    this.input.setAttribute('aria-activedescendant', `mo-${m.id}`);
    this.scrollActive();
  }

  /** Scrolls the list (only the list, never the page) so the active option is in view. */
  scrollActive() {
    const m = this.visible[this.active];
    const el = m && this.isOpen ? document.getElementById(`mo-${m.id}`) : null;
    if (!el) return;
    const list = this.list;
    const top = el.offsetTop;
    const bottom = top + el.offsetHeight;
    if (top < list.scrollTop) list.scrollTop = top - 28;
    else if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight + 4;
  }

  choose(id) {
    this.set(id);
    this.close(false);
    this.onPick(id);
  }

  key(e) {
    const n = this.visible.length;
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        if (!this.isOpen) this.filter('', true);
        else if (n) this.setActive((this.active + 1) % n);
        break;
      case 'ArrowUp':
        e.preventDefault();
        if (!this.isOpen) this.filter('', true);
        else if (n) this.setActive((this.active - 1 + n) % n);
        break;
      case 'Home':
        if (this.isOpen && n) { e.preventDefault(); this.setActive(0); }
        break;
      case 'End':
        if (this.isOpen && n) { e.preventDefault(); this.setActive(n - 1); }
        break;
      case 'Enter':
        if (this.isOpen) {
          e.preventDefault();
          if (this.active >= 0) this.choose(this.visible[this.active].id);
        }
        break;
      case 'Escape':
        if (this.isOpen) {
          e.preventDefault();
          this.close(true);
        }
        break;
      case 'Tab':
        if (this.isOpen) this.close(true);
        break;
      default:
    }
  }
}
