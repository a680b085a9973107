import assert from "node:assert/strict";
import type { Message } from "@google-cloud/pubsub";
import { usePubsubEmulator } from "../test/helpers/pubsub-emulator.js";
import { startGoogleEmulator } from "./server.js";
import { api, DEMO, notificationsSettled } from "../test/helpers/emulator.js";
import type { GoogleEmulator } from "./types.js";

// The Pub/Sub path against Google's own Pub/Sub emulator (gcloud); skipped where it is absent.
describe("emulator review notifications on the Cloud Pub/Sub emulator", function () {
  const ps = usePubsubEmulator();
  let emu: GoogleEmulator;
  before(async () => {
    emu = await startGoogleEmulator({ port: 0, seed: "tiny", pubsubEmulatorHost: ps.emu.host });
  });
  after(async () => {
    await emu?.close();
  });

  const token = () => emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
  const patch = (account: string, pubsubTopic: string) =>
    api(emu, `/v1/${account}/notificationSetting?updateMask=pubsubTopic,notificationTypes`, token(), {
      method: "PATCH",
      body: JSON.stringify({ pubsubTopic, notificationTypes: ["NEW_REVIEW", "UPDATED_REVIEW"] }),
    });

  it("refuses a topic the Pub/Sub emulator does not have, then publishes an edit to the account's topic for a pull subscriber", async () => {
    const pubsub = ps.emu.client();
    const account = emu.controls.data().accounts[0] as { name: string; locations: { parent: string }[] };
    const missing = await patch(account.name, `projects/${ps.emu.projectId}/topics/nobody-made-this`);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.details[0].reason, "INVALID_PUBSUB_TOPIC");

    const [topic] = await pubsub.createTopic("reviews");
    const [subscription] = await topic.createSubscription("reviews-pull");
    const set = await patch(account.name, topic.name);
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.pubsubTopic, `projects/${ps.emu.projectId}/topics/reviews`);

    const parent = (account.locations[0] as { parent: string }).parent;
    const review = (await api(emu, `/v4/${parent}/reviews`, token())).body.reviews[0].name as string;
    const received = new Promise<Message>((resolve) => subscription.once("message", resolve));
    emu.controls.editReview({ name: review, comment: "Seen through Pub/Sub." });
    await notificationsSettled(emu);
    assert.equal(emu.controls.notifications().counters.pubsub_published, 1);

    const message = await received;
    message.ack();
    await subscription.close();
    assert.deepEqual(JSON.parse(message.data.toString("utf8")), { type: "UPDATED_REVIEW", location: parent, review });
    assert.deepEqual(message.attributes, {}, "Google sends no attributes");
  });
});
