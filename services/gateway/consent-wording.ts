import type { ConsentFailure } from "../../lib/consent/failures.js";

/**
 * What the consent pages say, for the business owner who opened a one-time login link: what
 * happened and what to do next, in plain words. Developer words (RPC names, error codes, field
 * rules) stay out of these texts; the pages show the code only in small print.
 */
export interface Wording {
  title: string;
  /** What happened. */
  what: string;
  /** What to do next. */
  next: string;
}

const ASK_FOR_NEW_LINK = "ask the person who sent you the link for a new one.";
const NEW_LINK = `A${ASK_FOR_NEW_LINK.slice(1)}`;

const BY_REASON: Record<ConsentFailure, Wording> = {
  link_unknown: {
    title: "This link isn't valid",
    what: "We don't recognise this link. It may have been copied only in part, or it was meant for another business.",
    next: `Open the link again from the message you received, making sure you use all of it. If it still doesn't work, ${ASK_FOR_NEW_LINK}`,
  },
  link_used: {
    title: "This link has already been used",
    what: "Each link works only once, and this one has been opened before.",
    next: `If you have just connected your Google account, there's nothing more to do. Otherwise, ${ASK_FOR_NEW_LINK}`,
  },
  link_expired: {
    title: "This link has expired",
    what: "For your security, links only work for a short time, and this one is too old.",
    next: NEW_LINK,
  },
  state_unknown: {
    title: "We couldn't finish connecting",
    what: "Google sent you back here, but we don't recognise this sign-in. Nothing was connected.",
    next: `Open your link again. If it no longer works, ${ASK_FOR_NEW_LINK}`,
  },
  state_used: {
    title: "This sign-in was already completed",
    what: "This page was opened a second time (perhaps reloaded), so there was nothing left to do.",
    next: "If you saw a page saying you are connected, you're done and can close this window. Otherwise, ask the person who sent you the link for a new one.",
  },
  state_expired: {
    title: "This sign-in took too long",
    what: "For your security, the steps at Google must be finished within a few minutes. Nothing was connected.",
    next: NEW_LINK,
  },
  code_rejected: {
    title: "Google didn't accept this sign-in",
    what: "Google refused to complete it. This can happen when the page is reloaded or opened twice. Nothing was connected.",
    next: NEW_LINK,
  },
  scope_missing: {
    title: "Access to your Business Profile wasn't allowed",
    what: "At Google, the permission to manage your business profile was not ticked, so we can't read your reviews. Nothing was connected.",
    next: "Ask the person who sent you the link for a new one, and at Google tick the box allowing access to your business profile.",
  },
  no_refresh_token: {
    title: "Google didn't give lasting access",
    what: "Google gave only short-lived access, which is not enough to keep your reviews up to date. Nothing was connected.",
    next: "In your Google Account, under Security, remove this app's access (Third-party apps and services). Then ask the person who sent you the link for a new one.",
  },
  client_misconfigured: {
    title: "The connection isn't set up correctly",
    what: "Something is wrong with the settings on our side. This is not something you did wrong.",
    next: "Please tell the person who sent you the link; they need to check their setup before sending you a new link.",
  },
  google_unavailable: {
    title: "Google didn't answer",
    what: "Google was busy or could not be reached just now. Nothing was connected.",
    next: `Wait a few minutes, then try again. ${NEW_LINK}`,
  },
};

export const CONNECTED = (name: string): Wording => ({
  title: "You're connected",
  what: `${name} is now connected to Google.`,
  next: "We can now read your business's Google reviews. There's nothing more to do: you can close this window.",
});

export const DECLINED: Wording = {
  title: "Nothing was connected",
  what: "You chose not to give access at Google, so nothing was connected and nothing is shared.",
  next: `If that was a mistake, ${ASK_FOR_NEW_LINK}`,
};

export const GOOGLE_REFUSED: Wording = {
  title: "Google couldn't complete the sign-in",
  what: "Google sent you back without finishing the sign-in. Nothing was connected.",
  next: NEW_LINK,
};

/** A request that cannot be what a link or Google sent: cut short, edited, or typed by hand. */
export const INCOMPLETE: Record<"login" | "callback", Wording> = {
  login: {
    title: "This link is incomplete",
    what: "The address you opened is missing part of the link, or has been changed.",
    next: `Open the link again from the message you received, making sure you use all of it. If it still doesn't work, ${ASK_FOR_NEW_LINK}`,
  },
  callback: {
    title: "This page can't be used on its own",
    what: "This page only works when Google sends you here after you give access, and the details Google adds are missing.",
    next: "Open the link you received again and follow the steps at Google.",
  },
};

const TRY_LATER: Wording = {
  title: "Please try again in a few minutes",
  what: "Our service is busy or briefly unavailable, so we couldn't finish.",
  next: "Wait a few minutes, then open your link again. If it no longer works, ask the person who sent it for a new one.",
};

const OUR_FAULT: Wording = {
  title: "Something went wrong on our side",
  what: "We couldn't finish because of a problem on our side. This is not something you did wrong.",
  next: "Please try again later, or tell the person who sent you the link.",
};

/**
 * The wording for a failed step: by the TokenService's reason when it sent one, else by the
 * error's code (what the gateway itself refused, or a service that was unreachable).
 */
export function failureWording(step: "login" | "callback", reason: ConsentFailure | undefined, code: string): Wording {
  if (reason) return BY_REASON[reason];
  switch (code) {
    case "invalid_argument":
    case "out_of_range":
      return INCOMPLETE[step];
    case "not_found":
      // the link's client was deleted, or the id in the address was changed
      return BY_REASON.link_unknown;
    case "unavailable":
    case "deadline_exceeded":
    case "resource_exhausted":
    case "aborted":
      return TRY_LATER;
    default:
      return OUR_FAULT;
  }
}
