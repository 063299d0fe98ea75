import {
  MessageFlags,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type InteractionEditReplyOptions,
  type InteractionReplyOptions,
} from 'discord.js';
import type { DiscordConfig } from '../../config/schema.js';
import type { Autocompleter } from '../../core/autocomplete.js';
import type { Dispatcher, Outcome } from '../../core/dispatcher.js';
import type { Services } from '../../core/services.js';
import { Suggestions } from '../../stores/suggestions.js';
import { faultRef } from '../../log.js';
import type { ConversationRef, OutMessage } from '../../messages/message.js';
import { parseDecisionButtonId } from '../../messages/plan-messages.js';
import { describeDiscordError } from './api-errors.js';
import { commandKeyOf, commandTextOf, identityOf, optionValuesOf } from './interaction-input.js';
import { renderDiscordMessage, type DiscordPayload } from './render.js';

export interface InteractionDeps {
  discord: DiscordConfig;
  dispatcher: Dispatcher;
  services: Pick<Services, 'logger'>;
  autocomplete: Autocompleter;
  /** Autocomplete must answer within Discord's 3 s; past this, it answers with nothing. */
  autocompleteBudgetMs?: number;
}

const refusal = (text: string): OutMessage => ({ kind: 'refusal', text, private: true });

function replyOptions(p: DiscordPayload): InteractionReplyOptions & InteractionEditReplyOptions {
  return {
    content: p.content,
    embeds: p.embeds,
    components: p.components,
    allowedMentions: p.allowed_mentions as InteractionReplyOptions['allowedMentions'],
    files: p.files.map((f) => ({ attachment: f.data, name: f.name })),
  };
}

/**
 * Answers Discord interactions. Every interaction is acknowledged first (a private deferred
 * reply, or a private answer for what is decided in memory); only an acknowledged interaction
 * reaches the dispatcher, so no change is ever queued behind "This interaction failed".
 */
export class DiscordInteractionHandler {
  private readonly conversation: ConversationRef;

  constructor(private readonly d: InteractionDeps) {
    this.conversation = { platform: 'discord', guildId: d.discord.guildId, channelId: d.discord.channels.ops };
  }

  async handle(i: Interaction): Promise<void> {
    try {
      if (i.isChatInputCommand()) await this.command(i);
      else if (i.isAutocomplete()) await this.complete(i);
      else if (i.isButton()) await this.button(i);
    } catch (err) {
      // A bug or an outage between the ack and the answer: tell the person, keep the cause in the log.
      const ref = faultRef();
      this.d.services.logger.error({ ref, err: describeDiscordError(err), interaction: i.id }, 'interaction failed');
      if (i.isRepliable()) {
        const msg: OutMessage = { kind: 'error', text: 'labgate could not finish this; nothing further was queued from here.', ref, private: true };
        await (i.deferred || i.replied ? i.editReply(replyOptions(renderDiscordMessage(msg))) : i.reply({ ...replyOptions(renderDiscordMessage(msg)), flags: MessageFlags.Ephemeral })).catch(() => {});
      }
    }
  }

  private wrongPlace(i: Interaction): string | undefined {
    if (!i.inGuild()) return 'labgate takes commands in its server, not in direct messages';
    if (i.guildId !== this.d.discord.guildId) return 'labgate does not serve this server';
    return undefined;
  }

  private async replyPrivately(i: ChatInputCommandInteraction | ButtonInteraction, msg: OutMessage): Promise<void> {
    await i.reply({ ...replyOptions(renderDiscordMessage({ ...msg, private: true })), flags: MessageFlags.Ephemeral }).catch((err) => {
      this.d.services.logger.warn({ err: describeDiscordError(err), interaction: i.id }, 'could not answer an interaction');
    });
  }

  /** Acknowledges privately; false when Discord no longer takes an answer (expired, 10062). */
  private async defer(i: ChatInputCommandInteraction | ButtonInteraction): Promise<boolean> {
    try {
      await i.deferReply({ flags: MessageFlags.Ephemeral });
      return true;
    } catch (err) {
      this.d.services.logger.warn({ err: describeDiscordError(err), interaction: i.id }, 'could not acknowledge an interaction in time; nothing was done for it');
      return false;
    }
  }

  /** The outcome as private messages: the first completes the deferred reply, the rest follow. */
  private async answer(i: ChatInputCommandInteraction | ButtonInteraction, outcome: Outcome, otherwise: OutMessage): Promise<void> {
    const [first = otherwise, ...rest] = outcome.replies;
    await i.editReply(replyOptions(renderDiscordMessage(first)));
    for (const msg of rest) await i.followUp({ ...replyOptions(renderDiscordMessage(msg)), flags: MessageFlags.Ephemeral });
  }

  private async command(i: ChatInputCommandInteraction): Promise<void> {
    const place = this.wrongPlace(i);
    if (place) return this.replyPrivately(i, refusal(place));
    const name = commandKeyOf(i);
    const options = optionValuesOf(i);
    const text = commandTextOf(name, options);
    const who = identityOf(i);
    // The preconditions before deferring, so a refusal is the first (private) answer.
    const admission = await this.d.dispatcher.admit({ name, options, text }, who, 'the registered commands are out of date (labgate discord register)');
    if (!admission.ok) return this.replyPrivately(i, refusal(admission.message));
    if (!(await this.defer(i))) return;
    const outcome = await this.d.dispatcher.command({ name, options, text }, who, this.conversation, { admitted: admission.admitted });
    await this.answer(i, outcome, this.posted(outcome));
  }

  private async button(i: ButtonInteraction): Promise<void> {
    const place = this.wrongPlace(i);
    if (place) return this.replyPrivately(i, refusal(place));
    if (Suggestions.isSuggestion(i.customId)) return this.suggestion(i);
    const parsed = parseDecisionButtonId(i.customId);
    if (!parsed) return this.replyPrivately(i, refusal('that button is not one of labgate\'s plan buttons; nothing was changed'));
    if (!(await this.defer(i))) return;
    const conversation: ConversationRef = { platform: 'discord', guildId: i.guildId!, channelId: i.channelId };
    const outcome = await this.d.dispatcher.decide({ action: parsed.action, planId: parsed.planId, hashPrefix: parsed.hashPrefix }, identityOf(i), conversation);
    const otherwise: OutMessage = { kind: 'decision', planId: parsed.planId, text: `Approved ${parsed.planId}; applying. The result follows in <#${i.channelId}>.`, private: true };
    await this.answer(i, outcome, otherwise);
  }

  /** A button that runs a command ("Renew", "Fix with /router sync"), as the person who clicked. */
  private async suggestion(i: ButtonInteraction): Promise<void> {
    if (!(await this.defer(i))) return;
    const outcome = await this.d.dispatcher.runSuggestion(i.customId, identityOf(i), this.conversation);
    await this.answer(i, outcome, this.posted(outcome));
  }

  private posted(outcome: Outcome): OutMessage {
    const where = `<#${this.d.discord.channels.ops}>`;
    return outcome.planId
      ? { kind: 'info', text: `Plan ${outcome.planId} is posted in ${where} for approval.`, private: true }
      : { kind: 'info', text: `Posted in ${where}.`, private: true };
  }

  private async complete(i: AutocompleteInteraction): Promise<void> {
    let choices: { name: string; value: string | number }[] = [];
    if (!this.wrongPlace(i)) {
      const focused = i.options.getFocused(true);
      const budget = this.d.autocompleteBudgetMs ?? 2000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<[]>((resolve) => (timer = setTimeout(() => resolve([]), budget)));
      choices = await Promise.race([
        this.d.autocomplete.suggest({ command: commandKeyOf(i), option: focused.name, typed: String(focused.value ?? ''), options: optionValuesOf(i), who: identityOf(i) }),
        late,
      ]).finally(() => clearTimeout(timer));
    }
    await i.respond(choices).catch((err) => this.d.services.logger.debug({ err: describeDiscordError(err) }, 'autocomplete answer not taken'));
  }
}
