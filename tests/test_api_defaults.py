"""Issue 20, section 5: every API endpoint answers when it is called with its input alone, as
``gradio_client`` users call it (the class to explain defaults to the top one, the maps to
before the activation, the building block to the page's settings)."""
import pytest
from helpers import data_url, seven_png

from ui.api import EXPLAIN_TOP


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client
    return Client(server, download_files=False, verbose=False)


@pytest.fixture(scope="module")
def endpoints(client):
    return client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def sample(parameter: dict, picture: str):
    """An input for a parameter without a default: a drawing's data URL for text, the same
    drawing as a file for files."""
    from gradio_client import handle_file
    kind = parameter["python_type"]["type"]
    if "filepath" in kind:
        return handle_file(picture)
    assert kind == "str", f"no sample for {parameter['parameter_name']}: {kind}"
    return data_url(seven_png())


def test_every_endpoint_answers_with_its_input_alone(client, endpoints, tmp_path):
    picture = tmp_path / "seven.png"
    picture.write_bytes(seven_png())
    assert {"/classify_sketch", "/sketch_pictures", "/classify_photo", "/photo_pictures",
            "/building_block", "/prepare_digit", "/prepare_photo"} <= set(endpoints)
    for name, endpoint in endpoints.items():
        alone = [sample(p, str(picture)) for p in endpoint["parameters"]
                 if not p["parameter_has_default"]]
        assert len(alone) <= 1, f"{name} needs more than its input: {endpoint['parameters']}"
        answer = client.predict(*alone, api_name=name)
        answer = answer if isinstance(answer, tuple) else (answer,)
        texts = [a for a in answer if isinstance(a, str)]
        assert not any(t.startswith("⚠️") for t in texts), (name, texts)


@pytest.mark.parametrize("name, classes", [("sketch", 10), ("photo", 10)])
def test_the_pictures_explain_the_top_class_before_the_activation_by_default(
        name, classes, client, tmp_path):
    """Called with the input alone, the pictures are those of the top class, before the
    activation: the same files as when both are given."""
    from gradio_client import handle_file
    picture = tmp_path / "seven.png"
    picture.write_bytes(seven_png())
    value = data_url(seven_png()) if name == "sketch" else handle_file(str(picture))
    alone = client.predict(value, api_name=f"/{name}_pictures")
    given = client.predict(value, EXPLAIN_TOP, "before the activation",
                           api_name=f"/{name}_pictures")
    after = client.predict(value, EXPLAIN_TOP, "after the activation",
                           api_name=f"/{name}_pictures")
    paths = lambda answer: [p["path"] for p in answer]  # noqa: E731
    assert all(p is not None for p in alone) and paths(alone) == paths(given)
    assert paths(after) != paths(given)   # the option is read, not ignored
    status, label, *_ = client.predict(value, api_name=f"/classify_{name}")
    assert len(label["confidences"]) == classes and status.startswith(f"**{label['label']}**")
