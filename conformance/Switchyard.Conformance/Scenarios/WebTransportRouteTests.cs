using Switchyard.Conformance.Backends;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>
/// Switchyard's own profile, SWITCHYARD-WEBTRANSPORT: WebTransportRoutes (<c>switchyard.dev/v1alpha1</c>) on an HTTPS
/// listener, exercised with Switchyard's WebTransport client. Sessions are opened on the listener's UDP port and
/// track-framed messages are sent on unidirectional streams; the echo pods record every message the data plane
/// delivers (one POST per message, <c>X-Track-Id</c> / <c>X-Track-Type</c>), and the checks read those records and
/// the stream error codes the client sees. None of these tests counts towards GATEWAY-HTTP.
/// </summary>
internal static class WebTransportRouteTests
{
    /// <summary>The WebTransport application error code of a message no rule takes (the README's code table).</summary>
    public const uint NoRouteCode = 0x12;

    private const int Port = 443;

    private static readonly string[] Feature = [SwitchyardFeatures.WebTransportRoute];

    public static IEnumerable<ConformanceTest> All()
    {
        yield return Test("WebTransportRouteAttachment", "A WebTransportRoute attaches to an HTTPS listener (Accepted, ResolvedRefs, attachedRoutes) and takes sessions on its path.", "webtransportroute-attachment.yaml", async t =>
        {
            var gw = Gw("wt-attachment");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await RouteMustBeResolvedAsync(t, Route("wt-attachment"), gw);
            await t.Waiters.GatewayListenersMustHaveAttachedRoutesAsync(gw, "wt", 1, t.Ct);

            var since = DateTimeOffset.UtcNow;
            await using var session = await ConnectAsync(t, gw, "/wt");
            var stream = await session.OpenAsync();
            for (var i = 0; i < 5; i++)
            {
                await SendAsync(stream, "attach", "data", Payload(100 + i));
            }

            stream.Finish();
            await BackendMustReceiveAsync(t, "infra-backend-v1-", since, "attach", "data", 5, 5 * 100 + 10, "/attachment");

            // The rule's path match is Exact /wt: a session on another path is refused.
            foreach (var path in new[] { "/wt/more", "/other" })
            {
                var address = await AddressAsync(t, gw);
                var status = await RefusedStatusAsync(t, gw, path, address);
                if (status != 404)
                {
                    throw new ConformanceException($"a session on {path} was answered {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "with no status"}, expected 404 (no route)");
                }
            }
        });

        yield return Test("WebTransportRouteNoMatchingParent", "A parentRef whose sectionName names no listener leaves the route Accepted=False/NoMatchingParent, unattached, and takes no session.", "webtransportroute-no-matching-parent.yaml", async t =>
        {
            var gw = Gw("wt-no-matching-parent");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("wt-no-matching-parent"), [new(gw, [F("Accepted", "NoMatchingParent")], SectionName: "missing")], t.Ct, Kinds.WebTransportRoute);
            await t.Waiters.GatewayListenersMustHaveAttachedRoutesAsync(gw, "wt", 0, t.Ct);
            var address = await AddressAsync(t, gw);
            var status = await RefusedStatusAsync(t, gw, "/wt", address);
            if (status != 404)
            {
                throw new ConformanceException($"a session was answered {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "with no status"}, expected 404 (no route)");
            }
        });

        yield return Test("WebTransportRouteTrackTypeMatching", "Three streams of one session carrying video, audio and chat reach three different backends.", "webtransportroute-track-type-matching.yaml", async t =>
        {
            var gw = Gw("wt-track-type");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await RouteMustBeResolvedAsync(t, Route("wt-track-type"), gw);
            var since = DateTimeOffset.UtcNow;
            await using var session = await ConnectAsync(t, gw, "/media/room-1");
            var sends = new (string Type, string Backend, string Path, int Count, int Size)[]
            {
                ("video", "infra-backend-v1-", "/video", 6, 1200),
                ("audio", "infra-backend-v2-", "/audio", 4, 160),
                ("chat", "infra-backend-v3-", "/chat", 3, 40),
            };
            var streams = new List<TrackSender>();
            foreach (var _ in sends)
            {
                streams.Add(await session.OpenAsync());
            }

            // Interleaved, so that the three streams are open at once.
            for (var i = 0; i < sends.Max(s => s.Count); i++)
            {
                for (var s = 0; s < sends.Length; s++)
                {
                    if (i < sends[s].Count)
                    {
                        await SendAsync(streams[s], "t-" + sends[s].Type, sends[s].Type, Payload(sends[s].Size));
                    }
                }
            }

            streams.ForEach(s => s.Finish());
            foreach (var (type, backend, path, count, size) in sends)
            {
                await BackendMustReceiveAsync(t, backend, since, "t-" + type, type, count, count * size, path);
            }

            foreach (var (type, backend, _, _, _) in sends)
            {
                MustNotReceiveOthers(t, backend, since, "t-" + type);
            }
        });

        yield return Test("WebTransportRouteTrackIdMatching", "Exact and Prefix track_id matches select their backends; a track id neither matches has no route (0x12).", "webtransportroute-track-id-matching.yaml", async t =>
        {
            var gw = Gw("wt-track-id");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await RouteMustBeResolvedAsync(t, Route("wt-track-id"), gw);
            var since = DateTimeOffset.UtcNow;
            await using var session = await ConnectAsync(t, gw, "/any");
            var exact = await session.OpenAsync();
            var prefixA = await session.OpenAsync();
            var prefixB = await session.OpenAsync();
            for (var i = 0; i < 3; i++)
            {
                await SendAsync(exact, "cam-main", "video", Payload(50));
                await SendAsync(prefixA, "mic-alice", "audio", Payload(20));
                await SendAsync(prefixB, "mic-bob", "audio", Payload(30));
            }

            exact.Finish();
            prefixA.Finish();
            prefixB.Finish();
            await BackendMustReceiveAsync(t, "infra-backend-v1-", since, "cam-main", "video", 3, 150);
            await BackendMustReceiveAsync(t, "infra-backend-v2-", since, "mic-alice", "audio", 3, 60);
            await BackendMustReceiveAsync(t, "infra-backend-v2-", since, "mic-bob", "audio", 3, 90);
            MustNotReceiveOthers(t, "infra-backend-v1-", since, "cam-main");
            MustNotReceiveOthers(t, "infra-backend-v2-", since, "mic-alice", "mic-bob");

            // "cam-main2" is not Exact "cam-main", and "mi" is shorter than the prefix: neither has a route.
            foreach (var id in new[] { "cam-main2", "mi" })
            {
                MustBeNoRoute(await StopCodeAsync(t, session, id, "video"), id);
            }

            MustNotReceive(t, "infra-backend-v1-", since, "cam-main2", "mi");
            MustNotReceive(t, "infra-backend-v2-", since, "cam-main2", "mi");
        });

        yield return Test("WebTransportRouteHostnames", "A route with hostnames takes sessions whose :authority matches; others are refused with 404 and reach no backend.", "webtransportroute-hostnames.yaml", async t =>
        {
            var gw = Gw("wt-hostnames");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await RouteMustBeResolvedAsync(t, Route("wt-hostnames"), gw);
            var since = DateTimeOffset.UtcNow;
            await using (var session = await ConnectAsync(t, gw, "/wt", "wt.example.org"))
            {
                var stream = await session.OpenAsync();
                await SendAsync(stream, "host-ok", "chat", Payload(10));
                stream.Finish();
                await BackendMustReceiveAsync(t, "infra-backend-v1-", since, "host-ok", "chat", 1, 10);
            }

            foreach (var authority in new[] { "other.example.org", "example.org", "wt.example.org.evil.net" })
            {
                var status = await RefusedStatusAsync(t, gw, "/wt", authority);
                if (status != 404)
                {
                    throw new ConformanceException($"a session for {authority} was answered {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "with no status"}, expected 404 (no route)");
                }
            }
        });

        yield return Test("WebTransportRouteInvalidBackendKind", "A backendRef of an unsupported kind has ResolvedRefs=False/InvalidKind; its messages are stopped with no route (0x12).", "webtransportroute-invalid-backend-kind.yaml", async t =>
        {
            var gw = Gw("wt-invalid-kind");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("wt-invalid-kind"), [new(gw, [T("Accepted"), F("ResolvedRefs", "InvalidKind")])], t.Ct, Kinds.WebTransportRoute);
            var since = DateTimeOffset.UtcNow;
            await using var session = await ConnectAsync(t, gw, "/wt");
            MustBeNoRoute(await StopCodeAsync(t, session, "bad-kind", "video"), "bad-kind");
            MustNotReceive(t, "infra-backend-v1-", since, "bad-kind");
        });

        yield return Test("WebTransportRouteCrossNamespaceReferenceGrant", "A backend in another namespace is RefNotPermitted without a ReferenceGrant (its messages have no route, 0x12), and reached once one allows it.", "webtransportroute-cross-namespace.yaml", async t =>
        {
            var gw = Gw("wt-cross-namespace");
            var route = Route("wt-cross-namespace");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(route, [new(gw, [T("Accepted"), F("ResolvedRefs", "RefNotPermitted")])], t.Ct, Kinds.WebTransportRoute);
            var before = DateTimeOffset.UtcNow;
            await using (var session = await ConnectAsync(t, gw, "/wt"))
            {
                MustBeNoRoute(await StopCodeAsync(t, session, "no-grant", "chat"), "no-grant");
            }

            MustNotReceiveIn(t, "web-backend-", before, TestContext.WebBackend, "no-grant");

            await t.ApplyAsync("tests/webtransportroute-reference-grant.yaml");
            await RouteMustBeResolvedAsync(t, route, gw);
            var since = DateTimeOffset.UtcNow;
            await using (var session = await ConnectAsync(t, gw, "/wt"))
            {
                var stream = await session.OpenAsync();
                for (var i = 0; i < 4; i++)
                {
                    await SendAsync(stream, "granted", "chat", Payload(25));
                }

                stream.Finish();
                await BackendMustReceiveAsync(t, "web-backend-", since, "granted", "chat", 4, 100, ns: TestContext.WebBackend);
            }
        });

        yield return Test("WebTransportRouteWeights", "Backends are picked by weight once per stream (every message of a stream reaches one backend); a backend of weight 0 receives nothing.", "webtransportroute-weights.yaml", async t =>
        {
            var gw = Gw("wt-weights");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await RouteMustBeResolvedAsync(t, Route("wt-weights"), gw);
            var since = DateTimeOffset.UtcNow;
            const int streams = 24, messages = 4;
            await using var session = await ConnectAsync(t, gw, "/wt");
            for (var s = 0; s < streams; s++)
            {
                var stream = await session.OpenAsync();
                for (var i = 0; i < messages; i++)
                {
                    await SendAsync(stream, $"w-{s}", "data", Payload(10));
                }

                stream.Finish();
            }

            string[] backends = ["infra-backend-v1-", "infra-backend-v2-", "infra-backend-v3-"];
            await Poll.UntilAsync($"{streams * messages} weighted messages", t.Options.Timeout, _ =>
            {
                var n = backends.Sum(b => Tracks(t, b, since).Count(e => e.TrackId.StartsWith("w-", StringComparison.Ordinal)));
                return Task.FromResult((n >= streams * messages, $"{n} delivered"));
            }, t.Ct);
            await Task.Delay(300, t.Ct);
            var perBackend = backends.Select(b => Tracks(t, b, since).Where(e => e.TrackId.StartsWith("w-", StringComparison.Ordinal)).ToList()).ToArray();
            if (perBackend[2].Count > 0)
            {
                throw new ConformanceException($"the 0-weight backend received {perBackend[2].Count} messages");
            }

            for (var s = 0; s < streams; s++)
            {
                var id = $"w-{s}";
                var counts = perBackend.Select(l => l.Count(e => e.TrackId == id)).ToArray();
                if (counts.Sum() != messages || counts.Count(c => c > 0) != 1)
                {
                    throw new ConformanceException($"stream {id} was not sticky: messages per backend {string.Join("/", counts)}, expected all {messages} on one");
                }
            }

            // Weights 1:1 over 24 streams: each backend gets some (the chance of all on one is 2^-23).
            if (perBackend[0].Count == 0 || perBackend[1].Count == 0)
            {
                throw new ConformanceException($"weights 1:1 gave {perBackend[0].Count / messages}/{perBackend[1].Count / messages} streams");
            }
        });
    }

    private static ConformanceTest Test(string name, string description, string manifest, Func<TestContext, Task> body) =>
        new(name, description, Feature, ["tests/" + manifest], body) { Profile = SwitchyardFeatures.WebTransportProfile };

    private static Task RouteMustBeResolvedAsync(TestContext t, NN route, NN gw) =>
        t.Waiters.HttpRouteMustHaveParentsAsync(route, [new(gw, [T("Accepted"), T("ResolvedRefs")])], t.Ct, Kinds.WebTransportRoute);

    private static byte[] Payload(int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)('a' + (i % 26));
        }

        return bytes;
    }

    private static async Task SendAsync(TrackSender stream, string trackId, string trackType, byte[] payload)
    {
        if (!await stream.TrySendAsync(trackId, trackType, payload).ConfigureAwait(false))
        {
            throw new ConformanceException($"the Gateway stopped the stream of {trackId} ({trackType}) with code 0x{stream.StopCode:x}");
        }
    }

    /// <summary>
    /// The code the Gateway stops a stream of this track with; null when it never stops one. A stream stopped without
    /// a code the client could read (see <see cref="TrackSender"/>) is retried on a new stream, up to 5 times.
    /// </summary>
    private static async Task<uint?> StopCodeAsync(TestContext t, TrackSessionClient session, string trackId, string trackType)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var stream = await session.OpenAsync().ConfigureAwait(false);
            var code = await stream.WaitForStopAsync(trackId, trackType, TimeSpan.FromSeconds(10), t.Ct).ConfigureAwait(false);
            if (code is not null || !stream.Stopped)
            {
                return code;
            }

            t.Log($"conformance: the stream of {trackId} was stopped but its code was lost; trying another stream");
        }

        throw new ConformanceException($"the streams of {trackId} were stopped, but no stop code reached the client in 5 attempts");
    }

    private static void MustBeNoRoute(uint? code, string trackId)
    {
        if (code != NoRouteCode)
        {
            throw new ConformanceException($"track {trackId}: expected the stream stopped with no route (0x{NoRouteCode:x}), saw {(code is { } c ? "0x" + c.ToString("x", System.Globalization.CultureInfo.InvariantCulture) : "no stop")}");
        }
    }

    private static IReadOnlyList<TrackLogEntry> Tracks(TestContext t, string podPrefix, DateTimeOffset since, string ns = Infra) =>
        t.Env.TracksReceived(podPrefix, ns, since) ?? throw new ConformanceException($"the {t.Env.Mode} environment cannot observe what backends receive");

    /// <summary>Waits until the backend received exactly <paramref name="count"/> messages of the track (and no more), with these bytes in all.</summary>
    private static async Task BackendMustReceiveAsync(TestContext t, string podPrefix, DateTimeOffset since, string trackId, string trackType, int count, long bytes, string? path = null, string ns = Infra)
    {
        await Poll.UntilAsync($"{count} messages of {trackId} at {ns}/{podPrefix}*", t.Options.Timeout, _ =>
        {
            var got = Tracks(t, podPrefix, since, ns).Where(e => e.TrackId == trackId).ToList();
            return Task.FromResult((got.Count >= count, $"{got.Count} received"));
        }, t.Ct).ConfigureAwait(false);
        await Task.Delay(200, t.Ct).ConfigureAwait(false);
        var all = Tracks(t, podPrefix, since, ns).Where(e => e.TrackId == trackId).ToList();
        if (all.Count != count || all.Sum(e => (long)e.Bytes) != bytes)
        {
            throw new ConformanceException($"{ns}/{podPrefix}* received {all.Count} messages of {trackId} ({all.Sum(e => (long)e.Bytes)} bytes), expected {count} ({bytes} bytes)");
        }

        if (all.FirstOrDefault(e => e.TrackType != trackType || (path is not null && e.Path != path)) is { } wrong)
        {
            throw new ConformanceException($"{ns}/{podPrefix}* received {trackId} as type {wrong.TrackType} on {wrong.Path}, expected {trackType}{(path is null ? "" : " on " + path)}");
        }
    }

    private static void MustNotReceiveOthers(TestContext t, string podPrefix, DateTimeOffset since, params string[] allowed)
    {
        var other = Tracks(t, podPrefix, since).Where(e => !allowed.Contains(e.TrackId)).ToList();
        if (other.Count > 0)
        {
            throw new ConformanceException($"{podPrefix}* also received {string.Join(", ", other.Select(e => e.TrackId).Distinct())}");
        }
    }

    private static void MustNotReceive(TestContext t, string podPrefix, DateTimeOffset since, params string[] trackIds) =>
        MustNotReceiveIn(t, podPrefix, since, Infra, trackIds);

    private static void MustNotReceiveIn(TestContext t, string podPrefix, DateTimeOffset since, string ns, params string[] trackIds)
    {
        var got = Tracks(t, podPrefix, since, ns).Where(e => trackIds.Contains(e.TrackId)).ToList();
        if (got.Count > 0)
        {
            throw new ConformanceException($"{ns}/{podPrefix}* received {got.Count} messages of {string.Join(", ", got.Select(e => e.TrackId).Distinct())}, expected none");
        }
    }

    private static async Task<string> AddressAsync(TestContext t, NN gw)
    {
        string? address = null;
        await Poll.UntilAsync($"a WebTransport address for Gateway {gw} port {Port}", t.Options.Timeout, async ct =>
        {
            address = await t.Env.TryGetWebTransportAddressAsync(gw, Port, ct).ConfigureAwait(false);
            return (address is not null, "no address yet");
        }, t.Ct).ConfigureAwait(false);
        return address!;
    }

    /// <summary>Opens a session, retrying until the Gateway accepts it (routes are programmed asynchronously).</summary>
    private static async Task<TrackSessionClient> ConnectAsync(TestContext t, NN gw, string path, string? authority = null)
    {
        TrackSessionClient? client = null;
        await Poll.UntilAsync($"a WebTransport session on {gw} {authority}{path}", t.Options.Timeout, async ct =>
        {
            var address = await AddressAsync(t, gw).ConfigureAwait(false);
            var (session, why) = await TryConnectAsync(address, authority ?? address, path, ct).ConfigureAwait(false);
            client = session;
            return (session is not null, why);
        }, t.Ct).ConfigureAwait(false);
        return client!;
    }

    /// <summary>The status a refused session got; fails when the session is accepted.</summary>
    private static async Task<int?> RefusedStatusAsync(TestContext t, NN gw, string path, string authority)
    {
        var address = await AddressAsync(t, gw).ConfigureAwait(false);
        int? status = null;
        var (session, why) = await TryConnectAsync(address, authority, path, t.Ct, s => status = s).ConfigureAwait(false);
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw new ConformanceException($"a session for {authority}{path} was accepted");
        }

        t.Log($"conformance: session for {authority}{path} refused: {why}");
        return status;
    }

    private static async Task<(TrackSessionClient? Session, string Why)> TryConnectAsync(string address, string authority, string path, CancellationToken ct, Action<int?>? refused = null)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            return (await TrackSessionClient.ConnectAsync(address, authority, path, attempt.Token).ConfigureAwait(false), "");
        }
        catch (Switchyard.WebTransport.Sessions.WebTransportSessionException ex)
        {
            refused?.Invoke(ex.StatusCode);
            return (null, ex.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, "connecting timed out");
        }
#pragma warning disable CA1031 // Any transport failure is a reason to retry; the last one is reported at the deadline.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            return (null, ex.GetType().Name + ": " + ex.Message);
        }
    }
}
