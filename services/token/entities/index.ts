import { BranchRow } from "./branch.js";
import { ClientRow, type ClientStatus } from "./client.js";
import { LoginLinkRow } from "./login-link.js";
import { OAuthStateRow } from "./oauth-state.js";
import { TokenRow } from "./token.js";

export { BranchRow, ClientRow, LoginLinkRow, OAuthStateRow, TokenRow, type ClientStatus };

/** The TokenService's own entities (the shared ones are added by openDatabase). */
export const tokenEntities = [ClientRow, BranchRow, TokenRow, OAuthStateRow, LoginLinkRow];
