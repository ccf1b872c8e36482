// aedes' authenticate and authorize hooks, over the pure rules of access.ts and acl.ts: who connects,
// as whom, and what each may publish and subscribe. Adapted to aedes here, once.
import type { Aedes, AuthenticateError, Client } from "aedes";
import type { Logger } from "pino";
import { mayPublish, maySubscribe, type AclUser } from "./acl.js";
import { anonymousAllowed, clientIdentity, type AnonymousAccess } from "./access.js";
import type { AuthUser } from "./auth-file.js";

export interface AdmissionOptions {
  users: ReadonlyMap<string, Readonly<AuthUser>>;
  anonymous: AnonymousAccess;
  baseTopic: string;
  log: Logger;
  /** The remote address a client's connection came from (undefined: not a network socket). */
  addressOf: (client: Client) => string | undefined;
  /** Checks a password against a stored hash (password.ts's verifyPassword). */
  verify: (password: string, hash: string) => Promise<boolean>;
  /**
   * A hash of no one's password, checked for unknown user names, so that an unknown user is refused in
   * the same time as a known one with a wrong password (no user names found by timing).
   */
  decoyHash: string;
}

/** What a connected client is: a user under its rules, or an anonymous client under none. */
type Admitted = { kind: "user"; user: Readonly<AclUser> } | { kind: "anonymous" };
type ClientWithAccess = Client & { labxAccess?: Admitted };

const refuse = (code: 2 | 4 | 5, message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;

export function installAdmission(broker: Aedes, o: AdmissionOptions): void {
  const { log, baseTopic: base } = o;
  const defaultAuthorizePublish = broker.authorizePublish.bind(broker);
  broker.authenticate = (client, username, password, done) => {
    const address = o.addressOf(client);
    if (username === undefined) {
      if (anonymousAllowed(o.anonymous, address)) {
        (client as ClientWithAccess).labxAccess = { kind: "anonymous" };
        return done(null, true);
      }
      log.warn({ client: client.id, address }, "refused: anonymous client from another host");
      return done(refuse(5, "not authorized: log in (labx credentials shows the lab's logins)"), false);
    }
    const user = o.users.get(username);
    // The same scrypt work whether or not the user exists.
    o.verify(password?.toString("utf8") ?? "", user?.password_hash ?? o.decoyHash).then(
      (ok) => {
        if (!ok || !user || !password) {
          log.warn({ client: client.id, username, address }, "refused: bad user name or password");
          return done(refuse(4, "bad user name or password"), false);
        }
        const identity = clientIdentity(user, client.id);
        if (!identity) {
          log.warn(
            { client: client.id, username },
            "refused: a join login's client id must be labx-<node id>",
          );
          return done(refuse(2, "a join login's client id must be labx-<node id>"), false);
        }
        (client as ClientWithAccess).labxAccess = { kind: "user", user: identity };
        done(null, true);
      },
      () => done(refuse(4, "bad user name or password"), false),
    );
  };
  broker.authorizePublish = (client, packet, done) => {
    const access = (client as ClientWithAccess | null)?.labxAccess;
    // Anonymous clients keep aedes' own rule (no publishing to $SYS/). A will whose client is gone (another
    // broker's, from shared persistence) has no one to answer for it: only an open broker takes it.
    if (access?.kind === "anonymous" || (!client && o.anonymous === "anywhere"))
      return defaultAuthorizePublish(client, packet, done);
    if (access?.kind === "user" && mayPublish(access.user, packet.topic, base)) return done(null);
    log.warn({ client: client?.id, user: userOf(access), topic: packet.topic }, "publish refused");
    done(new Error(`not allowed to publish to ${packet.topic}`));
  };
  broker.authorizeSubscribe = (client, sub, done) => {
    const access = (client as ClientWithAccess).labxAccess;
    if (access?.kind === "anonymous") return done(null, sub);
    if (access?.kind === "user" && maySubscribe(access.user, sub.topic, base)) return done(null, sub);
    log.warn({ client: client.id, user: userOf(access), topic: sub.topic }, "subscription refused");
    // null: a failure code (0x80) in the SUBACK for this filter; the client stays connected.
    done(null, null);
  };
}

const userOf = (a: Admitted | undefined): string | undefined =>
  a?.kind === "user" ? a.user.username : undefined;
