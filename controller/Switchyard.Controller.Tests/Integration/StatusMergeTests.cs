using Switchyard.Api.GatewayApi;
using Switchyard.Api.Meta;
using Switchyard.Api.Serialization;
using Switchyard.Controller.Status;

namespace Switchyard.Controller.Tests.Integration;

/// <summary>The pure half of the status writer: what it would write, given what the object has.</summary>
public sealed class StatusMergeTests
{
    private const string Ours = "switchyard.dev/gateway-controller";
    private static readonly DateTimeOffset Then = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 30, 15, 123, TimeSpan.Zero);

    [Fact]
    public void UnchangedConditionStatus_KeepsLastTransitionTime_ChangedStatusGetsNowInWholeSeconds()
    {
        var current = new GatewayStatus { Conditions = [Cond("Accepted", "True", Then), Cond("Programmed", "True", Then)] };
        var computed = new GatewayStatus { Conditions = [Cond("Accepted", "True", null, message: "new words"), Cond("Programmed", "False", null)] };

        var merged = StatusMerge.Merge(current, computed, 3, Now);

        Assert.Equal(Then, merged.Conditions[0].LastTransitionTime);
        Assert.Equal("new words", merged.Conditions[0].Message);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 30, 15, TimeSpan.Zero), merged.Conditions[1].LastTransitionTime);
        Assert.All(merged.Conditions, c => Assert.Equal(3, c.ObservedGeneration));
    }

    [Fact]
    public void MergingTwice_IsStable_SoNothingIsWrittenTheSecondTime()
    {
        var computed = new GatewayStatus
        {
            Conditions = [Cond("Accepted", "True", null)],
            Listeners = [new ListenerStatus { Name = "wt", AttachedRoutes = 1, Conditions = [Cond("Programmed", "True", null)] }],
        };

        var first = StatusMerge.Merge(null, computed, 1, Now);
        var second = StatusMerge.Merge(first, computed, 1, Now.AddMinutes(5));

        Assert.True(StatusMerge.JsonEquals(first, second, ApiJsonContext.Default.GatewayStatus));
    }

    [Fact]
    public void ListenerSetStatus_KeepsEachListenersTransitionTimes_AndForeignSetConditions()
    {
        var current = new ListenerSetStatus
        {
            Conditions = [Cond("Accepted", "True", Then), Cond("example.com/Audited", "True", Then)],
            Listeners = [new ListenerStatus { Name = "a", Conditions = [Cond("Accepted", "True", Then)] }, new ListenerStatus { Name = "b", Conditions = [Cond("Accepted", "True", Then)] }],
        };
        var computed = new ListenerSetStatus
        {
            Conditions = [Cond("Accepted", "True", null)],
            Listeners = [new ListenerStatus { Name = "a", AttachedRoutes = 2, Conditions = [Cond("Accepted", "True", null)] }, new ListenerStatus { Name = "b", Conditions = [Cond("Accepted", "False", null)] }],
        };

        var merged = StatusMerge.Merge(current, computed, 4, Now);

        Assert.Equal(["Accepted", "example.com/Audited"], merged.Conditions.Select(c => c.Type));
        Assert.Equal(Then, merged.Listeners![0].Conditions[0].LastTransitionTime);
        Assert.Equal(2, merged.Listeners[0].AttachedRoutes);
        Assert.NotEqual(Then, merged.Listeners[1].Conditions[0].LastTransitionTime);
        Assert.True(StatusMerge.JsonEquals(merged, StatusMerge.Merge(merged, computed, 4, Now.AddMinutes(1)), ApiJsonContext.Default.ListenerSetStatus));
    }

    [Fact]
    public void ForeignConditionTypes_AreKept_StaleOwnTypesAreDropped()
    {
        var current = new GatewayStatus { Conditions = [Cond("Accepted", "True", Then), Cond("example.com/Audited", "True", Then), Cond("ResolvedRefs", "False", Then)] };
        var computed = new GatewayStatus { Conditions = [Cond("Accepted", "True", null)] };

        var merged = StatusMerge.Merge(current, computed, 1, Now);

        Assert.Equal(["Accepted", "example.com/Audited"], merged.Conditions.Select(c => c.Type));
    }

    [Fact]
    public void InsecureFrontendValidationMode_IsOurs_DroppedOnceNoPortFallsBack()
    {
        var current = new GatewayStatus { Conditions = [Cond("Accepted", "True", Then), Cond("InsecureFrontendValidationMode", "True", Then)] };
        var computed = new GatewayStatus { Conditions = [Cond("Accepted", "True", null)] };

        var merged = StatusMerge.Merge(current, computed, 2, Now);

        Assert.Equal(["Accepted"], merged.Conditions.Select(c => c.Type));
    }

    [Fact]
    public void RouteParents_OtherControllersEntriesStayInPlace_OursAreReplacedOrDropped()
    {
        var theirs = Parent("other-gw", "example.com/other", Then);
        var current = new RouteStatus
        {
            Parents = [Parent("gw", Ours, Then), theirs, Parent("gone", Ours, Then)],
        };
        var computed = new RouteStatus { Parents = [Parent("gw", Ours, null, "False"), Parent("new", Ours, null)] };

        var merged = StatusMerge.Merge(current, computed, Ours, 2, Now);

        Assert.Equal(["gw", "other-gw", "new"], merged.Parents.Select(p => p.ParentRef.Name));
        Assert.Same(theirs, merged.Parents[1]);
        Assert.Equal("False", merged.Parents[0].Conditions[0].Status);
        Assert.NotEqual(Then, merged.Parents[0].Conditions[0].LastTransitionTime);
    }

    [Fact]
    public void RouteParents_AfterAnotherControllerAppends_MergeEqualsCurrent()
    {
        var ours = StatusMerge.Merge(null, new RouteStatus { Parents = [Parent("gw", Ours, null)] }, Ours, 1, Then);
        ours.Parents.Add(Parent("other-gw", "example.com/other", Then));

        var merged = StatusMerge.Merge(ours, new RouteStatus { Parents = [Parent("gw", Ours, null)] }, Ours, 1, Now);

        Assert.True(StatusMerge.JsonEquals(ours, merged, ApiJsonContext.Default.RouteStatus));
    }

    [Fact]
    public void ParentRefDefaults_AreFilledBeforeComparing()
    {
        Assert.True(StatusMerge.SameParent(new ParentReference { Name = "gw" }, new ParentReference { Name = "gw", Group = GatewayApiNames.Group, Kind = "Gateway" }));
        Assert.False(StatusMerge.SameParent(new ParentReference { Name = "gw" }, new ParentReference { Name = "gw", SectionName = "wt" }));
        Assert.False(StatusMerge.SameParent(new ParentReference { Name = "gw", Port = 443 }, new ParentReference { Name = "gw" }));
    }

    [Fact]
    public void RandomHistories_MergeIsIdempotentAndNeverLosesForeignEntries()
    {
        var random = new Random(20250601);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        string[] names = ["a", "b", "c", "d"];
        string[] controllers = [Ours, "example.com/x", "example.com/y"];
        while (DateTime.UtcNow < deadline)
        {
            var current = new RouteStatus
            {
                Parents = [.. Enumerable.Range(0, random.Next(5)).Select(_ => Parent(names[random.Next(names.Length)], controllers[random.Next(controllers.Length)], Then, random.Next(2) == 0 ? "True" : "False"))],
            };
            var computed = new RouteStatus
            {
                Parents = [.. names.Where(_ => random.Next(2) == 0).Select(n => Parent(n, Ours, null, random.Next(2) == 0 ? "True" : "False"))],
            };

            var merged = StatusMerge.Merge(current, computed, Ours, 1, Now);
            var again = StatusMerge.Merge(merged, computed, Ours, 1, Now.AddHours(1));

            Assert.True(StatusMerge.JsonEquals(merged, again, ApiJsonContext.Default.RouteStatus));
            Assert.Equal(current.Parents.Where(p => p.ControllerName != Ours), merged.Parents.Where(p => p.ControllerName != Ours));
            Assert.Equal(computed.Parents.Select(p => p.ParentRef.Name).Order(), merged.Parents.Where(p => p.ControllerName == Ours).Select(p => p.ParentRef.Name).Order());
        }
    }

    private static Condition Cond(string type, string status, DateTimeOffset? at, string message = "m") =>
        new() { Type = type, Status = status, Reason = type, Message = message, LastTransitionTime = at };

    private static RouteParentStatus Parent(string gateway, string controller, DateTimeOffset? at, string accepted = "True") => new()
    {
        ParentRef = new ParentReference { Name = gateway },
        ControllerName = controller,
        Conditions = [Cond("Accepted", accepted, at)],
    };
}
