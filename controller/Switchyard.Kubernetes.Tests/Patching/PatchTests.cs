using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Patching;

namespace Switchyard.Kubernetes.Tests.Patching;

public sealed class PatchTests
{
    [Theory]
    // RFC 7386 Appendix A test cases.
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"a":null}""", """{}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":["b"]}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"c"}""", """{"a":["b"]}""", """{"a":["b"]}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""["a","b"]""", """["c","d"]""", """["c","d"]""")]
    [InlineData("""{"a":"b"}""", """["c"]""", """["c"]""")]
    [InlineData("""{"a":"foo"}""", "null", "null")]
    [InlineData("""{"a":"foo"}""", "\"bar\"", "\"bar\"")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("""[1,2]""", """{"a":"b","c":null}""", """{"a":"b"}""")]
    [InlineData("""{}""", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    public void MergePatch_MatchesRfc7386AppendixA(string target, string patch, string expected)
    {
        var result = JsonMergePatch.Apply(JsonNode.Parse(target), JsonNode.Parse(patch));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString() ?? "null");
    }

    [Theory]
    // RFC 6902 Appendix A.1 add an object member.
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/baz","value":"qux"}]""", """{"baz":"qux","foo":"bar"}""")]
    // A.2 add an array element.
    [InlineData("""{"foo":["bar","baz"]}""", """[{"op":"add","path":"/foo/1","value":"qux"}]""", """{"foo":["bar","qux","baz"]}""")]
    // A.3 remove an object member.
    [InlineData("""{"baz":"qux","foo":"bar"}""", """[{"op":"remove","path":"/baz"}]""", """{"foo":"bar"}""")]
    // A.4 remove an array element.
    [InlineData("""{"foo":["bar","qux","baz"]}""", """[{"op":"remove","path":"/foo/1"}]""", """{"foo":["bar","baz"]}""")]
    // A.5 replace a value.
    [InlineData("""{"baz":"qux","foo":"bar"}""", """[{"op":"replace","path":"/baz","value":"boo"}]""", """{"baz":"boo","foo":"bar"}""")]
    // A.6 move a value.
    [InlineData("""{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}""", """[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]""", """{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}""")]
    // A.7 move an array element.
    [InlineData("""{"foo":["all","grass","cows","eat"]}""", """[{"op":"move","from":"/foo/1","path":"/foo/3"}]""", """{"foo":["all","cows","eat","grass"]}""")]
    // A.8 test success.
    [InlineData("""{"baz":"qux","foo":["a",2,"c"]}""", """[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]""", """{"baz":"qux","foo":["a",2,"c"]}""")]
    // A.10 add a nested member object.
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/child","value":{"grandchild":{}}}]""", """{"foo":"bar","child":{"grandchild":{}}}""")]
    // A.14 ~ escape ordering.
    [InlineData("""{"/":9,"~1":10}""", """[{"op":"test","path":"/~01","value":10}]""", """{"/":9,"~1":10}""")]
    // A.16 add an array value.
    [InlineData("""{"foo":["bar"]}""", """[{"op":"add","path":"/foo/-","value":["abc","def"]}]""", """{"foo":["bar",["abc","def"]]}""")]
    // copy.
    [InlineData("""{"a":{"b":1}}""", """[{"op":"copy","from":"/a","path":"/c"}]""", """{"a":{"b":1},"c":{"b":1}}""")]
    public void JsonPatch_MatchesRfc6902AppendixA(string doc, string patch, string expected)
    {
        var result = JsonPatch.Apply(JsonNode.Parse(doc), JsonNode.Parse(patch));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }

    [Theory]
    // A.9 test failure.
    [InlineData("""{"baz":"qux"}""", """[{"op":"test","path":"/baz","value":"bar"}]""")]
    // A.12 add to a nonexistent target.
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/baz/bat","value":"qux"}]""")]
    // A.15 comparing strings and numbers.
    [InlineData("""{"/":9,"~1":10}""", """[{"op":"test","path":"/~01","value":"10"}]""")]
    // Index out of bounds, leading zero, bad escape, unknown op, missing value, move into own child.
    [InlineData("""{"a":[1]}""", """[{"op":"add","path":"/a/2","value":1}]""")]
    [InlineData("""{"a":[1,2]}""", """[{"op":"remove","path":"/a/01"}]""")]
    [InlineData("""{"a":1}""", """[{"op":"remove","path":"/~2"}]""")]
    [InlineData("""{"a":1}""", """[{"op":"frob","path":"/a"}]""")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"/b"}]""")]
    [InlineData("""{"a":{"b":1}}""", """[{"op":"move","from":"/a","path":"/a/b/c"}]""")]
    [InlineData("""{"a":1}""", """{"op":"add"}""")]
    public void JsonPatch_Errors_ThrowTypedException(string doc, string patch)
    {
        Assert.Throws<JsonPatchException>(() => JsonPatch.Apply(JsonNode.Parse(doc), JsonNode.Parse(patch)));
    }

    [Fact]
    public void JsonPatch_RandomOperations_NeverThrowAnythingElse()
    {
        var rng = new Random(42);
        var paths = new[] { "", "/a", "/a/0", "/a/-", "/b/c", "/~0", "/a/x", "/a/1/b", "x" };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (DateTime.UtcNow < deadline)
        {
            var doc = JsonNode.Parse("""{"a":[1,{"b":2}],"b":{"c":3}}""");
            var ops = new JsonArray();
            for (var i = rng.Next(1, 5); i > 0; i--)
            {
                var op = new JsonObject { ["op"] = new[] { "add", "remove", "replace", "move", "copy", "test" }[rng.Next(6)], ["path"] = paths[rng.Next(paths.Length)] };
                if (rng.Next(2) == 0)
                {
                    op["from"] = paths[rng.Next(paths.Length)];
                }

                if (rng.Next(3) > 0)
                {
                    op["value"] = rng.Next(3);
                }

                ops.Add(op);
            }

            try
            {
                JsonPatch.Apply(doc, ops);
            }
            catch (JsonPatchException)
            {
                // Expected for most random patches.
            }
        }
    }

    [Fact]
    public void StrategicMerge_MergesPortsByPortAndDropsDirectives()
    {
        var live = JsonNode.Parse("""{"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080},{"name":"https","port":443}]}}""");
        var patch = JsonNode.Parse("""{"spec":{"$setElementOrder/ports":[{"port":80},{"port":443}],"ports":[{"port":80,"targetPort":9090},{"port":443,"$patch":"delete"}]}}""");
        var result = StrategicMergePatch.Apply(live, patch);
        Assert.Equal("""{"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":9090}]}}""", result!.ToJsonString());
    }
}
